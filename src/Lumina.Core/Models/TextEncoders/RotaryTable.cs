using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Rotary position embedding in the Hugging Face "rotate half" layout used by LLaMA and Gemma checkpoints: the
/// head dimension is split into two halves that form the (real, imaginary) pairs. This differs from the consecutive
/// pair layout of the Lumina DiTs, which is why it lives with the text encoders.
/// </summary>
internal static class RotaryTable
{
    /// <summary>
    /// cos and sin <c>[tokens, headDim]</c> for positions 0..tokens-1, computed in fp32 like upstream, then cast to
    /// <paramref name="dtype"/>.
    /// </summary>
    public static (Tensor Cos, Tensor Sin) Create(long tokens, int headDim, double theta, double linearFactor, ScalarType dtype, Device device)
    {
        using var scope = torch.NewDisposeScope();
        var exponents = torch.arange(0, headDim, 2, dtype: ScalarType.Int64, device: device).to(ScalarType.Float32) / headDim;
        var invFreq = torch.full(new long[] { headDim / 2 }, theta, dtype: ScalarType.Float32, device: device).pow(exponents).reciprocal();
        if (linearFactor != 1.0)
        {
            invFreq = invFreq / linearFactor;
        }

        var positions = torch.arange(tokens, dtype: ScalarType.Float32, device: device);
        var freqs = positions.unsqueeze(1) * invFreq.unsqueeze(0);
        var emb = torch.cat(new[] { freqs, freqs }, dim: -1);
        var cos = emb.cos().to(dtype);
        var sin = emb.sin().to(dtype);
        return scope.MoveToOuter(cos, sin);
    }

    /// <summary>Applies the rotation to <c>[batch, heads, tokens, headDim]</c>.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = torch.NewDisposeScope();
        long half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = torch.cat(new[] { x2.neg(), x1 }, dim: -1);
        var result = x * cos + rotated * sin;
        return result.MoveToOuterDisposeScope();
    }
}
