using Lumina.Guidance;
using Lumina.Testing;
using TorchSharp;
using Xunit.Abstractions;

namespace Lumina.Sampling.Tests;

/// <summary>
/// Upstream Lumina-Image 2.0 <c>forward_with_cfg</c>'s guidance arithmetic (golden part 'lumina2', <c>out.cfg.*</c>),
/// model-free: the batched forward upstream ran (<c>trace.cfg.t{T}.model_out</c>, rows [cond, uncond]) combined by
/// <see cref="ClassifierFreeGuidance"/> with all channels guided, the clip <c>renorm_cfg</c> and strict time truncation.
/// </summary>
public sealed class GuidanceParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Golden.Json("lumina2")["cfg_cases"]!.AsObject()) data.Add(c.Key);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Lumina2_cfg_cases_match_upstream(string name)
    {
        var info = Golden.Json("lumina2")["cfg_cases"]![name]!;
        var kwargs = info["kwargs"]!;
        var time = (double)info["t"]!;
        var trunc = (double?)kwargs["cfg_trunc"] ?? 100.0;   // upstream's default cfg_trunc = 100: never truncates
        var options = new GuidanceOptions
        {
            Scale = (double)kwargs["cfg_scale"]!,
            Channels = GuidanceChannels.All,
            TruncateAtTime = trunc <= 1 ? trunc : null,
            ClipToConditionalNorm = (double?)kwargs["renorm_cfg"] ?? 1.0,   // upstream's default renorm_cfg = 1
        };
        using var cases = Golden.OpenCases("lumina2");
        using var scope = torch.NewDisposeScope();
        var modelOut = cases.Read($"trace.cfg.t{time.ToString(System.Globalization.CultureInfo.InvariantCulture)}.model_out");
        var batchSizes = new List<long>();
        // The batched forward upstream ran stands in for the model: the conditional-only call gets its first row.
        GuidanceModel model = (x, t, batch) =>
        {
            batchSizes.Add(x.shape[0]);
            return batch == GuidanceBatch.Both ? modelOut.clone() : modelOut.narrow(0, 0, 1).clone();
        };
        using var z = cases.Read("z_cfg");
        var got = ClassifierFreeGuidance.DoubledBatchVelocity(model, torch.cat([z, z], 0), time, options);
        Assert.Equal(info["forward_batch_sizes"]!.AsArray().Select(n => (long)n!), batchSizes);
        Assert.Equal((bool)info["cfg_applied"]!, options.IsGuidedAt(time));
        var error = TensorAssert.Close(cases.Read($"out.cfg.{name}"), got, what: $"out.cfg.{name}");
        output.WriteLine($"{name}: max |Δ| {error:E2}");
    }
}
