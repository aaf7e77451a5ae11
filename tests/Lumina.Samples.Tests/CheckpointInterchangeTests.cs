using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Pipelines;
using Lumina.Tensors;
using Lumina.Testing;

namespace Lumina.Samples.Tests;

/// <summary>
/// The round trip docs/scaling.md describes: weights written by upstream's Python code load strictly here, and what
/// Lumina.NET writes has upstream's file names, keys, shapes, dtypes and bytes, in both published layouts.
/// </summary>
public sealed class CheckpointInterchangeTests : IDisposable
{
    private readonly TempFolder _temp = new("lumina-interchange");

    public void Dispose() => _temp.Dispose();

    private static NextDiTConfig GoldenConfig()
    {
        var c = Golden.Json("nextdit")["config"]!;
        return new NextDiTConfig
        {
            PatchSize = (int)c["patch_size"]!, InChannels = (int)c["in_channels"]!, Dim = (int)c["dim"]!, Layers = (int)c["n_layers"]!,
            Heads = (int)c["n_heads"]!, KvHeads = (int?)c["n_kv_heads"], MultipleOf = (int)c["multiple_of"]!, LearnSigma = (bool)c["learn_sigma"]!,
            QkNorm = (bool)c["qk_norm"]!, CaptionDim = (int)c["cap_feat_dim"]!,
        };
    }

    /// <summary>Every tensor of <paramref name="expected"/> is in <paramref name="actual"/> with the same dtype, shape and bytes, and nothing else is.</summary>
    private static void SameTensors(string expected, string actual)
    {
        using var e = SafetensorsFile.Open(expected);
        using var a = SafetensorsFile.Open(actual);
        Assert.Equal(e.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), a.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var t in e.Tensors)
        {
            var other = a.GetInfo(t.Name);
            Assert.Equal(t.DType, other.DType);
            Assert.Equal(t.Shape, other.Shape);
            Assert.True(e.ReadBytes(t.Name).AsSpan().SequenceEqual(a.ReadBytes(t.Name)), $"{t.Name}: bytes differ");
        }
    }

    [Fact]
    public void UpstreamOriginalWeights_RoundTripByteForByte_AndLoadAsAnOriginalFolder()
    {
        using var model = new NextDiT(GoldenConfig());
        NextDiTCheckpoint.Load(model, Golden.WeightsPath("nextdit"));            // strict: upstream keys, no remapping

        var folder = Directory.CreateDirectory(_temp.File("finetuned")).FullName;
        var written = Path.Combine(folder, "consolidated.00-of-01.safetensors");
        model.SaveSafetensors(written);

        SameTensors(Golden.WeightsPath("nextdit"), written);
        Assert.Equal(ModelLayoutKind.Original, ModelFolder.Open(folder).Layout);
    }

    [Fact]
    public void UpstreamOriginalWeights_WrittenInTheDiffusersLayout_MatchWhatDiffusersWrites()
    {
        using var model = new NextDiT(GoldenConfig());
        NextDiTCheckpoint.Load(model, Golden.WeightsPath("nextdit"));

        var written = _temp.File("diffusion_pytorch_model.safetensors");
        NextDiTCheckpoint.SaveDiffusers(model, written);

        SameTensors(Golden.WeightsPath("nextdit_diffusers"), written);

        // And back: the diffusers file loads into a fresh model with the original names, byte-identical again.
        using var back = new NextDiT(GoldenConfig());
        NextDiTCheckpoint.Load(back, written);
        var original = _temp.File("consolidated.00-of-01.safetensors");
        back.SaveSafetensors(original);
        SameTensors(Golden.WeightsPath("nextdit"), original);
    }
}
