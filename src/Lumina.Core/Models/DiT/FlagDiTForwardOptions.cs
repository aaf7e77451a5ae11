using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>Per-call options of <see cref="FlagDiT"/> (upstream <c>forward_with_cfg</c> keyword arguments).</summary>
public sealed record FlagDiTForwardOptions
{
    /// <summary>Overrides the config's rope_scaling_factor (positions divided by it). Null = config value.</summary>
    public double? RopeScalingFactor { get; init; }

    /// <summary>Overrides the config's ntk_factor (θ multiplied by it; extrapolation uses the area ratio to 1024²).</summary>
    public double? NtkFactor { get; init; }

    /// <summary>Proportional attention base length (upstream 64² + 2·64 = 4224 for the 1024-px model); null = off.</summary>
    public int? BaseSequenceLength { get; init; }

    /// <summary>Keep all 2·C channels of a learn-sigma model.</summary>
    public bool KeepLearnedSigma { get; init; }

    /// <summary>Debug hook with submodule outputs (<c>x_embedder</c>, <c>t_embedder</c>, <c>cap_embedder</c>, <c>layers.{i}</c>, <c>final_layer</c>).</summary>
    public Action<string, Tensor>? Trace { get; init; }
}
