using System.Buffers.Binary;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using Xunit.Abstractions;

namespace Lumina.Core.Tests.Tensors;

/// <summary>
/// A seeded mutation fuzzer over GGUF files: bit flips, byte changes, insertions and deletions, truncations, and huge
/// counts, lengths, dimensions, types and offsets written over header fields, derived from the golden GGUFs and from
/// small files written here. Every mutant must parse (and then decode every tensor inside its bytes) or raise
/// <see cref="GgufException"/>: no other exception type and no read outside the file.
/// </summary>
public sealed class GgufFuzzTests(ITestOutputHelper output)
{
    private const int InMemoryInputs = 6000;
    private const int FileInputs = 400;

    private static readonly ulong[] Huge =
    [
        0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 24, 31, 32, 33, 255, 256, 65535, 1u << 20, int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue,
        (ulong)uint.MaxValue + 1, long.MaxValue, (ulong)long.MaxValue + 1, ulong.MaxValue, ulong.MaxValue - 7, 1UL << 40, 1UL << 62,
    ];

    private sealed record Seed(string Name, byte[] Bytes, int HeaderEnd);

    [Fact]
    public void MutatedGgufFilesRaiseOnlyTheDocumentedException()
    {
        using var temp = new TempFolder();
        var seeds = Seeds(temp);
        Assert.True(seeds.Count >= 10);
        var random = new Random(20261201);
        var unexpected = new List<string>();
        int parsed = 0, rejected = 0, decodedTensors = 0, inputs = 0;

        for (var i = 0; i < InMemoryInputs; i++, inputs++)
        {
            var seed = seeds[random.Next(seeds.Count)];
            var (mutant, fileLength, kind) = Mutate(seed, random);
            try
            {
                var header = GgufHeader.Parse(mutant, fileLength, "fuzz");
                parsed++;
                foreach (var t in header.Tensors)
                {
                    // Nothing may point outside the file.
                    Assert.InRange(t.Offset, 0, fileLength);
                    Assert.InRange(header.DataOffset + t.Offset + t.ByteLength, header.DataOffset, fileLength);
                    Assert.Equal(t.ElementCount / t.Type.BlockSize() * t.Type.TypeSize(), t.ByteLength);
                    var start = header.DataOffset + t.Offset;
                    if (GgmlDequantizer.IsSupported(t.Type) && start + t.ByteLength <= mutant.Length && t.ElementCount <= 1 << 20)
                    {
                        GgmlDequantizer.Dequantize(t.Type, mutant.AsSpan((int)start, (int)t.ByteLength), new float[t.ElementCount]);
                        decodedTensors++;
                    }
                }
            }
            catch (GgufException)
            {
                rejected++;
            }
            catch (Exception ex)
            {
                unexpected.Add($"{kind} of {seed.Name}: {ex.GetType().Name}: {ex.Message}");
            }
        }

        // Through the file API: open, then read every tensor (dequantized) and its raw blocks.
        var small = seeds.Where(s => s.Bytes.Length < 64 << 10).ToList();
        var path = Path.Combine(temp.Path, "mutant.gguf");
        int opened = 0, openRejected = 0;
        for (var i = 0; i < FileInputs; i++, inputs++)
        {
            var seed = small[random.Next(small.Count)];
            var (mutant, fileLength, kind) = Mutate(seed, random);
            File.WriteAllBytes(path, mutant.AsSpan(0, (int)Math.Min(mutant.Length, fileLength)).ToArray());
            try
            {
                using var file = GgufFile.Open(path);
                opened++;
                foreach (var t in file.TensorInfos)
                {
                    using var raw = file.ReadRaw(t.Name);
                    Assert.Equal(t.ByteLength, raw.numel());
                    if (GgufFile.CanRead(t.Type))
                    {
                        using var value = file.Read(t.Name);
                        Assert.Equal(t.Shape, value.shape);
                    }
                }
            }
            catch (GgufException)
            {
                openRejected++;
            }
            catch (Exception ex)
            {
                unexpected.Add($"file {kind} of {seed.Name}: {ex.GetType().Name}: {ex.Message}");
            }
        }

        output.WriteLine($"{inputs} inputs from {seeds.Count} seeds: in memory {parsed} parsed ({decodedTensors} tensors decoded), {rejected} rejected; " +
            $"as files {opened} opened and read, {openRejected} rejected; {unexpected.Count} unexpected exceptions");
        Assert.Equal(InMemoryInputs + FileInputs, inputs);
        Assert.True(inputs >= 5000);
        Assert.Empty(unexpected.Take(20));
        Assert.True(rejected > InMemoryInputs / 3, "Most mutations should produce invalid files.");
        Assert.True(parsed > InMemoryInputs / 20, "Some mutations (in data or harmless places) should still parse.");
        Assert.True(opened > 0 && openRejected > 0);
    }

    [Fact]
    public void AFileThatShrinksAfterOpeningRaisesTheDocumentedException()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "shrinks.gguf");
        File.Copy(Path.Combine(Golden.Directory, "kquants.gguf"), path);
        using var file = GgufFile.Open(path);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            stream.SetLength(file.Header.DataOffset + 100);
        var last = file.TensorInfos[^1].Name;
        Assert.Throws<GgufException>(() => file.Read(last));
        Assert.Throws<GgufException>(() => file.ReadRaw(last));
    }

    private static List<Seed> Seeds(TempFolder temp)
    {
        var seeds = Directory.GetFiles(Golden.Directory, "*.gguf").Order(StringComparer.Ordinal)
            .Select(p => Load(Path.GetFileName(p), File.ReadAllBytes(p))).ToList();

        // Small files with every metadata value type, nested arrays, an original shape, a zero-size tensor, a scalar,
        // another alignment and several block types.
        var metadata = new List<KeyValuePair<string, GgufValue>>
        {
            new("general.architecture", GgufValue.String("fuzz")),
            new("u32", GgufValue.UInt32(7)), new("i32", GgufValue.Int32(-7)), new("u64", GgufValue.UInt64(1UL << 40)),
            new("f32", GgufValue.Float32(0.5f)), new("flag", GgufValue.Bool(true)),
            new("words", GgufValue.StringArray("alpha", "β", "")),
            new("nested", GgufValue.ArrayOfArrays(GgufValue.Int32Array(1, 2, 3), GgufValue.Int32Array())),
            new(GgufHeader.OriginalShapePrefix + "q8", GgufValue.Int32Array(2, 2, 32)),
        };
        var random = new Random(3);
        GgufWriterTensor Blocks(string name, GgmlType type, long[] shape)
        {
            var n = shape.Aggregate(1L, (a, b) => a * b) / type.BlockSize() * type.TypeSize();
            var bytes = new byte[n];
            random.NextBytes(bytes);
            return new(name, type, shape, () => torch.tensor(bytes));
        }
        var tensors = new List<GgufWriterTensor>
        {
            Blocks("q8", GgmlType.Q8_0, [4, 32]),
            Blocks("q4k", GgmlType.Q4_K, [2, 256]),
            Blocks("iq4xs", GgmlType.IQ4_XS, [1, 256]),
            Blocks("q5_1", GgmlType.Q5_1, [3, 64]),
            new("f32", GgmlType.F32, [5, 3], () => torch.randn(5, 3)),
            new("bf16", GgmlType.BF16, [7], () => torch.randn(7).to(torch.ScalarType.BFloat16)),
            new("empty", GgmlType.F16, [0, 4], () => torch.empty(0, 4, torch.ScalarType.Float16)),
            new("scalar", GgmlType.F32, [], () => torch.tensor(1.5f)),
            new("ids", GgmlType.I32, [6], () => torch.arange(6, torch.ScalarType.Int32)),
        };
        for (var variant = 0; variant < 3; variant++)
        {
            var path = temp.File($"seed{variant}.gguf");
            GgufWriter.Write(path, variant == 2 ? metadata.Take(1) : metadata, variant == 1 ? tensors.Take(3) : tensors, alignment: variant == 0 ? 32 : 64);
            seeds.Add(Load(Path.GetFileName(path), File.ReadAllBytes(path)));
        }
        return seeds;
    }

    private static Seed Load(string name, byte[] bytes)
    {
        var header = GgufHeader.Parse(bytes, bytes.Length, name);
        return new Seed(name, bytes, (int)header.HeaderLength);
    }

    /// <summary>A mutant's bytes (for big seeds only a prefix that covers the header) and the file length it claims.</summary>
    private static (byte[] Bytes, long FileLength, string Kind) Mutate(Seed seed, Random random)
    {
        var keep = seed.Bytes.Length > 64 << 10 ? Math.Min(seed.Bytes.Length, seed.HeaderEnd + 4096) : seed.Bytes.Length;
        var bytes = seed.Bytes.AsSpan(0, keep).ToArray();
        long fileLength = seed.Bytes.Length;
        var kind = random.Next(8);
        int At(int limit) => random.Next(Math.Max(1, Math.Min(limit, bytes.Length)));
        switch (kind)
        {
            case 0: // bit flips in the header
                for (var n = random.Next(1, 4); n > 0; n--)
                    bytes[At(seed.HeaderEnd)] ^= (byte)(1 << random.Next(8));
                return (bytes, fileLength, "bit flips");
            case 1: // random bytes anywhere in what we hold
                for (var n = random.Next(1, 8); n > 0; n--)
                    bytes[At(bytes.Length)] = (byte)random.Next(256);
                return (bytes, fileLength, "byte changes");
            case 2: // truncation
                var cut = random.Next(3) == 0 ? random.Next(Math.Min(bytes.Length, 64)) : random.Next(bytes.Length);
                return (bytes[..cut], cut, "truncation");
            case 3: // a huge or boundary u64 over any 8 bytes of the header (counts, lengths, dims, offsets)
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(Math.Min(At(seed.HeaderEnd), bytes.Length - 8)), Huge[random.Next(Huge.Length)]);
                return (bytes, fileLength, "huge u64");
            case 4: // a u32 (versions, value types, n_dims, ggml types) over the header
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(Math.Min(At(seed.HeaderEnd), bytes.Length - 4)), (uint)Huge[random.Next(Huge.Length)]);
                return (bytes, fileLength, "u32");
            case 5: // the tensor or KV count
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(random.Next(2) == 0 ? 8 : 16), Huge[random.Next(Huge.Length)]);
                return (bytes, fileLength, "counts");
            case 6: // insert or delete bytes in the header, shifting everything after
                var at = At(seed.HeaderEnd);
                var list = bytes.ToList();
                if (random.Next(2) == 0)
                    list.RemoveRange(at, Math.Min(list.Count - at, random.Next(1, 24)));
                else
                    list.InsertRange(at, Enumerable.Range(0, random.Next(1, 24)).Select(_ => (byte)random.Next(256)));
                var shifted = list.ToArray();
                return (shifted, keep == seed.Bytes.Length ? shifted.Length : fileLength + shifted.Length - bytes.Length, "insert/delete");
            default: // a claimed file length shorter than the data (the data section no longer fits)
                var claimed = random.NextInt64(Math.Min(bytes.Length, seed.HeaderEnd), fileLength + 1);
                return (bytes[..(int)Math.Min(bytes.Length, claimed)], claimed, "short file");
        }
    }
}
