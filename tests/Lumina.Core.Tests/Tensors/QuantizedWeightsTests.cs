using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using TorchSharp.Modules;

namespace Lumina.Core.Tests.Tensors;

/// <summary>GGUF weights kept quantized and dequantized per block, on a module tree with the golden file's names.</summary>
public sealed class QuantizedWeightsTests
{
    [Theory]
    [InlineData("Q8_0")]
    [InlineData("Q4_0")]
    public void BlocksMaterializeBitwiseOnUseAndReturnToPlaceholdersAfter(string type)
    {
        using var file = GgufFile.Open(Path.Combine(Golden.Directory, $"lumina2.{type}.gguf"));
        using var root = Node.Build(file.Tensors);
        var blocks = new[] { root.Child("layers.0"), root.Child("layers.1") };
        using var weights = QuantizedWeights.Load(root, file, blocks);
        Assert.True(weights.Report.IsExactMatch);

        using var reference = SafetensorsFile.Open(Path.Combine(Golden.Directory, $"lumina2.{type}.dequant.safetensors"));
        Assert.Equal(reference.Tensors.Select(t => t.Name).Order(), weights.QuantizedKeys.Order());
        Assert.Equal(file.TensorInfos.Where(t => t.Type.IsQuantized()).Sum(t => t.ByteLength), weights.QuantizedBytes);

        var state = root.state_dict();
        const string qkv0 = "layers.0.attention.qkv.weight", qkv1 = "layers.1.attention.qkv.weight";
        Assert.True(state[qkv0].isnan().all().item<bool>(), "kept tensors are NaN placeholders between uses");
        Assert.Equal(reference.GetInfo(qkv0).Shape, state[qkv0].shape);
        using (weights.Use(blocks[0]))
        {
            using var want = reference.Read(qkv0);
            GgufFileTests.AssertBitwise(want, root.state_dict()[qkv0].contiguous(), qkv0);
            Assert.True(root.state_dict()[qkv1].isnan().all().item<bool>(), "only the block in use is dense");
        }
        Assert.True(root.state_dict()[qkv0].isnan().all().item<bool>());
        Assert.Null(weights.Use(root.Child("noise_refiner.0")));

        // Everything else was read at load.
        foreach (var info in file.TensorInfos.Where(t => !t.Type.IsQuantized()))
        {
            using var want = file.Read(info.Name, torch.ScalarType.Float32);
            GgufFileTests.AssertBitwise(want, state[info.Name], info.Name);
        }
        using (weights.UseAll())
            foreach (var name in weights.QuantizedKeys)
            {
                using var want = reference.Read(name);
                GgufFileTests.AssertBitwise(want, root.state_dict()[name].contiguous(), name);
            }
    }

    [Fact]
    public void AStrictMismatchFailsAndReleasesWhatWasCaptured()
    {
        using var file = GgufFile.Open(Path.Combine(Golden.Directory, "lumina2.Q8_0.gguf"));
        using var root = Node.Build(file.Tensors.Where(t => t.Name != "x_embedder.bias"));
        var error = Assert.Throws<CheckpointMismatchException>(() => QuantizedWeights.Load(root, file, [root.Child("layers.0")]));
        Assert.Contains("x_embedder.bias", error.Message);
    }

    /// <summary>A module tree built from dotted names, with float32 parameters of the listed shapes.</summary>
    private sealed class Node : torch.nn.Module
    {
        private readonly Dictionary<string, Node> _children = new(StringComparer.Ordinal);

        private Node(string name) : base(name) { }

        public static Node Build(IEnumerable<SafetensorsTensorInfo> tensors)
        {
            var root = new Node("root");
            foreach (var t in tensors)
            {
                var parts = t.Name.Split('.');
                var node = root;
                foreach (var part in parts[..^1])
                {
                    if (!node._children.TryGetValue(part, out var child))
                    {
                        node._children[part] = child = new Node(part);
                        node.register_module(part, child);
                    }
                    node = child;
                }
                node.register_parameter(parts[^1], new Parameter(torch.zeros(t.ShapeArray())));
            }
            return root;
        }

        public Node Child(string path) => path.Split('.').Aggregate(this, (n, p) => n._children[p]);
    }
}
