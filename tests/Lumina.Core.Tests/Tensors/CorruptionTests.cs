using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Lumina.Tensors;
using Lumina.Testing;
using Xunit.Abstractions;

namespace Lumina.Core.Tests.Tensors;

/// <summary>
/// Mutates the golden files in many ways and checks that each mutant either loads correctly or raises
/// <see cref="SafetensorsException"/>: no other exception type, no crash, no hang, no out-of-bounds read.
/// </summary>
public sealed class CorruptionTests(ITestOutputHelper output)
{
    private const int MutantsPerKind = 750;

    private delegate byte[] Mutation(byte[] original, Random random);

    private static readonly (string Kind, Mutation Mutate)[] Mutations =
    [
        ("byte flips in the header", FlipHeaderBytes),
        ("byte flips anywhere", FlipAnyBytes),
        ("truncations", Truncate),
        ("inflated or shrunk header lengths", ChangeHeaderLength),
        ("overlapping or out-of-range offsets", ChangeOffsets),
        ("wrong dtypes", ChangeDType),
        ("wrong shapes", ChangeShape),
        ("hostile JSON (duplicates, invalid UTF-8, deep nesting, odd numbers)", HostileJson),
    ];

    [Fact]
    public void EveryMutantLoadsOrRaisesTheDocumentedException()
    {
        var sources = Directory.GetFiles(Golden.Directory, "*.safetensors")
            .Where(p => new FileInfo(p).Length is > 64 and < 700_000)
            .Order(StringComparer.Ordinal)
            .Select(File.ReadAllBytes)
            .ToList();
        Assert.NotEmpty(sources);

        using var temp = new TempFolder("lumina-corrupt");
        var random = new Random(20261126);
        int total = 0, rejected = 0, loaded = 0;
        foreach (var (kind, mutate) in Mutations)
        {
            int kindRejected = 0;
            for (int i = 0; i < MutantsPerKind; i++)
            {
                var original = sources[random.Next(sources.Count)];
                var mutant = mutate(original, random);
                var path = temp.File($"mutant-{total:D5}.safetensors");
                File.WriteAllBytes(path, mutant);
                total++;
                try
                {
                    using var file = SafetensorsFile.Open(path);
                    foreach (var info in file.Tensors)
                    {
                        using var tensor = file.Read(info.Name);
                        Assert.Equal(info.Shape, tensor.shape);
                    }
                    loaded++;
                }
                catch (SafetensorsException ex)
                {
                    Assert.Contains(path, ex.Message);
                    rejected++;
                    kindRejected++;
                }
                File.Delete(path);
            }
            output.WriteLine($"{kind}: {MutantsPerKind} mutants, {kindRejected} rejected with SafetensorsException");
            Assert.True(kindRejected > 0, $"No mutant of kind '{kind}' was rejected; the mutation does not exercise validation.");
        }
        output.WriteLine($"Ran {total} mutated files: {rejected} rejected, {loaded} loaded.");
        Assert.True(total >= 5000, $"Only {total} mutants ran.");
        Assert.Equal(total, rejected + loaded);
    }

    private static (JsonObject Header, int HeaderLength) ParseHeader(byte[] file)
    {
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        return (JsonNode.Parse(file.AsSpan(8, length))!.AsObject(), length);
    }

    private static byte[] Rebuild(byte[] original, string headerJson)
    {
        var (_, oldLength) = ParseHeader(original);
        var header = Encoding.UTF8.GetBytes(headerJson);
        var result = new byte[8 + header.Length + (original.Length - 8 - oldLength)];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)header.Length);
        header.CopyTo(result, 8);
        original.AsSpan(8 + oldLength).CopyTo(result.AsSpan(8 + header.Length));
        return result;
    }

    private static JsonObject RandomTensor(JsonObject header, Random random)
    {
        var names = header.Where(kv => kv.Key != "__metadata__").Select(kv => kv.Key).ToList();
        return header[names[random.Next(names.Count)]]!.AsObject();
    }

    private static byte[] FlipHeaderBytes(byte[] original, Random random)
    {
        var copy = (byte[])original.Clone();
        var headerEnd = (int)Math.Min(copy.Length, 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(copy));
        for (int n = random.Next(1, 6); n > 0; n--)
            copy[random.Next(headerEnd)] ^= (byte)(1 << random.Next(8));
        return copy;
    }

    private static byte[] FlipAnyBytes(byte[] original, Random random)
    {
        var copy = (byte[])original.Clone();
        for (int n = random.Next(1, 20); n > 0; n--)
            copy[random.Next(copy.Length)] = (byte)random.Next(256);
        return copy;
    }

    private static byte[] Truncate(byte[] original, Random random) =>
        original[..random.Next(original.Length)];

    private static byte[] ChangeHeaderLength(byte[] original, Random random)
    {
        var copy = (byte[])original.Clone();
        var length = BinaryPrimitives.ReadUInt64LittleEndian(copy);
        ulong changed = random.Next(6) switch
        {
            0 => ulong.MaxValue - (ulong)random.Next(1000),
            1 => (ulong)random.NextInt64(100_000_001, long.MaxValue),
            2 => length + (ulong)random.Next(1, 4096),
            3 => length - (ulong)random.Next(1, (int)Math.Min(length, 64) + 1),
            4 => (ulong)original.Length - 8 + (ulong)random.Next(0, 3),
            _ => (ulong)random.Next(0, 8),
        };
        BinaryPrimitives.WriteUInt64LittleEndian(copy, changed);
        return copy;
    }

    private static byte[] ChangeOffsets(byte[] original, Random random)
    {
        var (header, _) = ParseHeader(original);
        var tensor = RandomTensor(header, random);
        var offsets = tensor["data_offsets"]!.AsArray();
        long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
        (long b, long e) = random.Next(6) switch
        {
            0 => (begin - random.Next(1, 64), end - random.Next(1, 64)),     // overlap the previous tensor
            1 => (begin + random.Next(1, 64), end + random.Next(1, 64)),     // gap / overlap the next
            2 => (begin, end + (long)int.MaxValue * random.Next(1, 4)),      // far out of range
            3 => (end, begin),                                               // reversed
            4 => (-random.Next(1, 100), end),                                // negative
            _ => (0, end - begin),                                           // collide with the first tensor
        };
        tensor["data_offsets"] = new JsonArray(b, e);
        return Rebuild(original, header.ToJsonString());
    }

    private static byte[] ChangeDType(byte[] original, Random random)
    {
        var (header, _) = ParseHeader(original);
        string[] dtypes = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3", "U32", "f32", "X9", "", "1", "F32,F16"];
        RandomTensor(header, random)["dtype"] = dtypes[random.Next(dtypes.Length)];
        return Rebuild(original, header.ToJsonString());
    }

    private static byte[] ChangeShape(byte[] original, Random random)
    {
        var (header, _) = ParseHeader(original);
        var tensor = RandomTensor(header, random);
        var shape = tensor["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToList();
        switch (random.Next(6))
        {
            case 0: if (shape.Count > 0) shape[random.Next(shape.Count)] += random.Next(1, 5); else shape.Add(2); break;
            case 1: shape.Add(random.Next(1, 4)); break;
            case 2: if (shape.Count > 0) shape.RemoveAt(0); break;
            case 3: shape = [long.MaxValue, long.MaxValue]; break;
            case 4: shape.Add(-1); break;
            default: shape.Reverse(); break;
        }
        tensor["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray());
        return Rebuild(original, header.ToJsonString());
    }

    private static byte[] HostileJson(byte[] original, Random random)
    {
        var (header, length) = ParseHeader(original);
        var text = Encoding.UTF8.GetString(original, 8, length).TrimEnd();
        var first = header.First(kv => kv.Key != "__metadata__");
        switch (random.Next(7))
        {
            case 0: // the same name twice
                return Rebuild(original, text[..^1] + $",\"{first.Key}\":{first.Value!.ToJsonString()}}}");
            case 1: // invalid UTF-8 inside a name
            {
                var bytes = Encoding.UTF8.GetBytes(text).ToList();
                var quote = bytes.IndexOf((byte)'"') + 1;
                bytes.InsertRange(quote, new byte[] { 0xC3, 0x28, 0xFF });
                var mutated = original.Take(8).Concat(bytes).Concat(original.Skip(8 + length)).ToArray();
                BinaryPrimitives.WriteUInt64LittleEndian(mutated, (ulong)bytes.Count);
                return mutated;
            }
            case 2: // deep nesting
                return Rebuild(original, new string('[', 5000) + new string(']', 5000));
            case 3: // not an object
                return Rebuild(original, random.Next(2) == 0 ? "[]" : "\"text\"");
            case 4: // offsets written as floats or strings
                first.Value!["data_offsets"] = random.Next(2) == 0 ? JsonNode.Parse("[0.5, 1e3]") : JsonNode.Parse("[\"0\", \"4\"]");
                return Rebuild(original, header.ToJsonString());
            case 5: // metadata of the wrong type
                header["__metadata__"] = random.Next(2) == 0 ? JsonNode.Parse("{\"a\": 1}") : JsonNode.Parse("[\"x\"]");
                return Rebuild(original, header.ToJsonString());
            default: // missing fields
                first.Value!.AsObject().Remove(random.Next(3) switch { 0 => "dtype", 1 => "shape", _ => "data_offsets" });
                return Rebuild(original, header.ToJsonString());
        }
    }
}
