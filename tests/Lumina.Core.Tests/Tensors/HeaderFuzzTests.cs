using System.Buffers.Binary;
using System.Text;
using Lumina.Tensors;
using Lumina.Testing;
using Xunit.Abstractions;

namespace Lumina.Core.Tests.Tensors;

/// <summary>
/// A seeded mutation fuzzer over the header parser alone (in memory, so it runs tens of thousands of inputs in
/// seconds): every input must parse or raise <see cref="SafetensorsException"/>, nothing else.
/// </summary>
public sealed class HeaderFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Tokens =
    [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u0000", "\\ud800", "null", "true", "-1", "0", "1e309", "18446744073709551616",
        "9223372036854775807", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"BF16\"", "\"BOOL\"", "\"F8_E5M2\"",
        "\u00e9", "\ud83d\ude00", "\u0001", " ", "\n",
    ];

    [Fact]
    public void TwentyThousandMutatedHeadersRaiseOnlyTheDocumentedException()
    {
        var seeds = Directory.GetFiles(Golden.Directory, "*.safetensors")
            .Select(File.ReadAllBytes)
            .Where(b => b.Length > 8)
            .Select(b => (Header: b.AsSpan(8, (int)BinaryPrimitives.ReadUInt64LittleEndian(b)).ToArray(), DataLength: (long)b.Length - 8 - (long)BinaryPrimitives.ReadUInt64LittleEndian(b)))
            .ToList();
        var random = new Random(1126);
        var unexpected = new List<string>();
        int parsed = 0, rejected = 0;
        const int inputs = 20_000;
        for (int i = 0; i < inputs; i++)
        {
            var (header, dataLength) = seeds[random.Next(seeds.Count)];
            var mutant = Mutate(header, random);
            var claimed = random.Next(4) == 0 ? random.NextInt64(0, dataLength * 2 + 2) : dataLength;
            try
            {
                var result = SafetensorsHeader.Parse(mutant, claimed, "fuzz");
                Assert.All(result.Tensors, t => Assert.InRange(t.End, t.Begin, claimed));
                parsed++;
            }
            catch (SafetensorsException)
            {
                rejected++;
            }
            catch (Exception ex)
            {
                unexpected.Add($"{ex.GetType().Name}: {ex.Message} <- {Convert.ToBase64String(mutant)}");
            }
        }
        output.WriteLine($"{inputs} inputs: {parsed} parsed, {rejected} rejected, {unexpected.Count} unexpected exceptions");
        Assert.Empty(unexpected);
        Assert.True(rejected > inputs / 2, "The mutations should mostly produce invalid headers.");
    }

    private static byte[] Mutate(byte[] header, Random random)
    {
        var bytes = new List<byte>(header);
        for (int n = random.Next(1, 5); n > 0; n--)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0 when bytes.Count > 0: bytes[at] = (byte)random.Next(256); break;
                case 1 when bytes.Count > 0: bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 16))); break;
                case 2: bytes.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[random.Next(Tokens.Length)])); break;
                case 3 when bytes.Count > 1: // splice a run of the header onto another place
                    var from = random.Next(bytes.Count);
                    var run = bytes.GetRange(from, Math.Min(bytes.Count - from, random.Next(1, 64)));
                    bytes.InsertRange(at, run);
                    break;
                default: // change a digit, which is where offsets and shapes live
                    var digits = Enumerable.Range(0, bytes.Count).Where(k => bytes[k] is >= (byte)'0' and <= (byte)'9').ToList();
                    if (digits.Count > 0)
                        bytes[digits[random.Next(digits.Count)]] = (byte)('0' + random.Next(10));
                    break;
            }
        }
        return bytes.ToArray();
    }
}
