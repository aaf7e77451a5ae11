using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

/// <summary>The diffusers LuminaNextDiT2DModel layout (golden part 'nextdit_diffusers') through the key map.</summary>
public sealed class NextDiTDiffusersTests
{
    [Fact]
    public void DiffusersCheckpointLoadsStrictlyAndMatchesDiffusersForward()
    {
        using var scope = NewDisposeScope();
        using var model = new NextDiT(NextDiTParityTests.GoldenConfig());
        var report = NextDiTCheckpoint.Load(model, Golden.WeightsPath("nextdit_diffusers"));
        Assert.True(report.IsExactMatch);
        // Only the duplicated attn2 query projection and query norm are skipped (weight + norm weight + norm bias per layer).
        Assert.Equal(2 * 3, report.Skipped.Count);
        Assert.All(report.Skipped, k => Assert.Contains(".attn2.", k));

        using var cases = Golden.OpenCases("nextdit_diffusers");
        Tensor output;
        using (no_grad())
            output = model.Forward(cases.Read("x"), cases.Read("t"), cases.Read("cap_feats"), cases.Read("cap_mask"),
                new NextDiTForwardOptions { KeepLearnedSigma = true });
        TensorAssert.Close(cases.Read("out.forward"), output, what: "diffusers out.forward (8 channels)");

        using var original = Golden.OpenCases("nextdit");
        TensorAssert.Close(original.Read("out.forward"), output.narrow(1, 0, 4), what: "first 4 channels = nextdit out.forward");
    }

    [Fact]
    public void KeyMapRoundTripsEveryKeyAndWritesAFileDiffusersCanRead()
    {
        using var model = new NextDiT(NextDiTParityTests.GoldenConfig());
        model.LoadSafetensors(Golden.WeightsPath("nextdit"));
        using var temp = new TempFolder();
        var path = temp.File("transformer.safetensors");
        NextDiTCheckpoint.SaveDiffusers(model, path);

        using (var written = SafetensorsFile.Open(path))
        using (var reference = SafetensorsFile.Open(Golden.WeightsPath("nextdit_diffusers")))
        {
            Assert.Equal(reference.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal),
                         written.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
            foreach (var info in reference.Tensors)
            {
                using var a = reference.Read(info.Name);
                using var b = written.Read(info.Name);
                TensorAssert.Equal(a, b, info.Name);
            }
        }

        foreach (var key in model.state_dict().Keys)
            foreach (var d in NextDiTKeyMap.ToDiffusers(key))
            {
                var back = NextDiTKeyMap.FromDiffusers(d);
                if (back is not null) Assert.Equal(key, back);
            }
    }
}
