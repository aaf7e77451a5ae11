using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Nn;

/// <summary>
/// The LLaMA-style SwiGLU feed-forward of every Lumina DiT: <c>w2(silu(w1 x) · w3 x)</c>, no biases. Checkpoint keys
/// <c>w1</c>, <c>w2</c>, <c>w3</c>.
/// </summary>
internal sealed class SwiGluFeedForward : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly Linear w1;
    private readonly Linear w2;
    private readonly Linear w3;
#pragma warning restore IDE1006

    /// <summary>Creates the feed-forward with the upstream hidden-width rule (see <see cref="HiddenDim"/>).</summary>
    /// <param name="dim">Model width.</param>
    /// <param name="multipleOf">The hidden width is rounded up to a multiple of this (256 in the released models).</param>
    /// <param name="ffnDimMultiplier">Optional extra factor on the hidden width.</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Dtype of the weights.</param>
    public SwiGluFeedForward(long dim, long multipleOf, double? ffnDimMultiplier = null, Device? device = null, ScalarType? dtype = null)
        : this(dim, HiddenDim(dim, multipleOf, ffnDimMultiplier), device, dtype, explicitWidth: true)
    {
    }

    private SwiGluFeedForward(long dim, long hiddenSize, Device? device, ScalarType? dtype, bool explicitWidth)
        : base(nameof(SwiGluFeedForward))
    {
        _ = explicitWidth;
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "The model width must be positive.");
        if (hiddenSize <= 0) throw new ArgumentOutOfRangeException(nameof(hiddenSize), hiddenSize, "The hidden width must be positive.");
        HiddenSize = hiddenSize;
        w1 = ModuleFactory.Linear(dim, HiddenSize, false, device, dtype);
        w2 = ModuleFactory.Linear(HiddenSize, dim, false, device, dtype);
        w3 = ModuleFactory.Linear(dim, HiddenSize, false, device, dtype);
        RegisterComponents();
    }

    /// <summary>
    /// Creates the feed-forward with an explicit hidden width (Lumina-Image 2.0 rounds 4·dim up to
    /// <c>multiple_of</c> without LLaMA's 2/3 factor; see <see cref="RoundUp"/>).
    /// </summary>
    public static SwiGluFeedForward WithHiddenSize(long dim, long hiddenSize, Device? device = null, ScalarType? dtype = null)
        => new(dim, hiddenSize, device, dtype, explicitWidth: true);

    /// <summary>
    /// <paramref name="hidden"/>, times <paramref name="ffnDimMultiplier"/> (truncated) if given, rounded up to a
    /// multiple of <paramref name="multipleOf"/>.
    /// </summary>
    public static long RoundUp(long hidden, long multipleOf, double? ffnDimMultiplier = null)
    {
        if (hidden <= 0) throw new ArgumentOutOfRangeException(nameof(hidden), hidden, "The hidden width must be positive.");
        if (multipleOf <= 0) throw new ArgumentOutOfRangeException(nameof(multipleOf), multipleOf, "multiple_of must be positive.");
        if (ffnDimMultiplier is double m) hidden = (long)(m * hidden);
        return multipleOf * ((hidden + multipleOf - 1) / multipleOf);
    }

    /// <summary>The hidden width in use.</summary>
    public long HiddenSize { get; }

    /// <summary>
    /// Upstream hidden width: <c>int(2·4·dim/3)</c>, times <paramref name="ffnDimMultiplier"/> (truncated) if given,
    /// rounded up to a multiple of <paramref name="multipleOf"/>.
    /// </summary>
    public static long HiddenDim(long dim, long multipleOf, double? ffnDimMultiplier = null)
    {
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "The model width must be positive.");
        if (multipleOf <= 0) throw new ArgumentOutOfRangeException(nameof(multipleOf), multipleOf, "multiple_of must be positive.");
        return RoundUp((long)(2.0 * (4 * dim) / 3.0), multipleOf, ffnDimMultiplier);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.silu(w1.forward(x)).mul_(w3.forward(x));
        return w2.forward(h).MoveToOuterDisposeScope();
    }
}
