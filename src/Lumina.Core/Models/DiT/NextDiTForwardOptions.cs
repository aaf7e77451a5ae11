using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// Per-call options of <see cref="NextDiT"/> (upstream's <c>forward_with_cfg</c> keyword arguments, without the
/// mutable model state upstream keeps between calls).
/// </summary>
public sealed record NextDiTForwardOptions
{
    /// <summary>
    /// Time-aware RoPE scale factor (resolution extrapolation: sqrt(w·h)/1024). Null = the model's default table
    /// (<see cref="NextDiTConfig.ScaleFactor"/>, NTK). When set, the table is rebuilt from <c>t[0]</c>: linear scaling
    /// while t &lt; <see cref="ScaleWatershed"/>, NTK scaling after.
    /// </summary>
    public double? ScaleFactor { get; init; }

    /// <summary>Switch point of the time-aware scaling (upstream extrapolation preset 0.3; diffusers 1.0).</summary>
    public double ScaleWatershed { get; init; } = 1.0;

    /// <summary>
    /// Proportional attention: when set, the self-attention scale is sqrt(log_base(N)/hd) with N the padded token
    /// count. Upstream uses (image_size/16)² = 4096 for the 1024-px models. Null = 1/sqrt(hd).
    /// </summary>
    public int? BaseSequenceLength { get; init; }

    /// <summary>Keep all 2·C output channels of a learn-sigma model (diffusers' layout); default drops the second half.</summary>
    public bool KeepLearnedSigma { get; init; }

    /// <summary>
    /// Debug hook called with submodule outputs: <c>x_embedder</c> [B, H/p, W/p, dim] (tensor input only),
    /// <c>t_embedder</c>, <c>cap_embedder</c>, <c>layers.{i}</c>, <c>final_layer</c>. The tensors are disposed after
    /// the call returns; clone what you keep.
    /// </summary>
    public Action<string, Tensor>? Trace { get; init; }

    /// <summary>
    /// Step caching: when set, the model consults it before its blocks and may reuse a cached residual instead of
    /// running them (see <see cref="IBlockStackCache"/>). Null = always run the blocks.
    /// </summary>
    internal IBlockStackCache? BlockCache { get; init; }
}
