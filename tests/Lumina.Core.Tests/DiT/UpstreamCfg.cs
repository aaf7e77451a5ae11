using Lumina.Guidance;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

/// <summary>Upstream <c>forward_with_cfg</c> for the model tests, through Lumina.Sampling's guidance (the only home of it):
/// the doubled batch [cond; uncond], its first half used for both halves, the guided result written into both.</summary>
internal static class UpstreamCfg
{
    public static Tensor Run(Func<Tensor, Tensor, Tensor> forward, Tensor x, double time, double scale,
        GuidanceChannels channels = GuidanceChannels.LuminaFirstThree)
        => ClassifierFreeGuidance.DoubledBatchVelocity((input, t, _) => forward(input, t), x, time,
            new GuidanceOptions { Scale = scale, Channels = channels });
}
