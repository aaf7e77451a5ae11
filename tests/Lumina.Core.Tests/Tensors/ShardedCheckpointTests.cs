using System.Text.Json;
using Lumina.Tensors;
using Lumina.Testing;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Tensors;

public sealed class ShardedCheckpointTests
{
    private static void WriteIndex(string path, IDictionary<string, string> weightMap) =>
        File.WriteAllText(path, JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = weightMap }));

    [Fact]
    public void ReadsTensorsFromEveryShardThroughTheIndex()
    {
        using var temp = new TempFolder();
        using var a = arange(6, dtype: float32).reshape(2, 3);
        using var b = arange(4, dtype: int64);
        SafetensorsWriter.Write(temp.File("model-00001-of-00002.safetensors"), [new("a", a)]);
        SafetensorsWriter.Write(temp.File("model-00002-of-00002.safetensors"), [new("b", b)]);
        WriteIndex(temp.File("model.safetensors.index.json"), new Dictionary<string, string>
        {
            ["a"] = "model-00001-of-00002.safetensors",
            ["b"] = "model-00002-of-00002.safetensors",
        });

        foreach (var path in new[] { temp.File("model.safetensors.index.json"), temp.Path })
        {
            using var checkpoint = SafetensorsCheckpoint.Open(path);
            Assert.Equal(["a", "b"], checkpoint.Tensors.Select(t => t.Name));
            Assert.Equal(2, checkpoint.Files.Count);
            using var readA = checkpoint.Read("a");
            using var readB = checkpoint.Read("b");
            TensorAssert.Equal(a, readA);
            TensorAssert.Equal(b, readB);
        }
    }

    [Fact]
    public void RejectsIndexesThatEscapeTheFolderOrLie()
    {
        using var temp = new TempFolder();
        using var a = ones(2);
        SafetensorsWriter.Write(temp.File("shard.safetensors"), [new("a", a)]);

        WriteIndex(temp.File("escape.safetensors.index.json"), new Dictionary<string, string> { ["a"] = "../shard.safetensors" });
        var escape = Assert.Throws<SafetensorsException>(() => SafetensorsCheckpoint.Open(temp.File("escape.safetensors.index.json")));
        Assert.Contains("not a file beside the index", escape.Message);

        WriteIndex(temp.File("absolute.safetensors.index.json"), new Dictionary<string, string> { ["a"] = temp.File("shard.safetensors") });
        Assert.Throws<SafetensorsException>(() => SafetensorsCheckpoint.Open(temp.File("absolute.safetensors.index.json")));

        WriteIndex(temp.File("lie.safetensors.index.json"), new Dictionary<string, string> { ["zzz"] = "shard.safetensors" });
        var lie = Assert.Throws<SafetensorsException>(() => SafetensorsCheckpoint.Open(temp.File("lie.safetensors.index.json")));
        Assert.Contains("'zzz'", lie.Message);

        WriteIndex(temp.File("gone.safetensors.index.json"), new Dictionary<string, string> { ["a"] = "missing.safetensors" });
        Assert.Throws<FileNotFoundException>(() => SafetensorsCheckpoint.Open(temp.File("gone.safetensors.index.json")));

        File.WriteAllText(temp.File("bad.safetensors.index.json"), "{ not json");
        Assert.Throws<SafetensorsException>(() => SafetensorsCheckpoint.Open(temp.File("bad.safetensors.index.json")));
    }
}
