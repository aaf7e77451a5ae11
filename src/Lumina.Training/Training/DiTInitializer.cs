using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Training;

/// <summary>
/// Initialises a Lumina DiT for training from scratch, following upstream's rules by parameter name: Xavier-uniform
/// linears with zero biases; N(0, 0.02) for the timestep MLP, the caption projection and <c>pad_token</c>; ones/zeros
/// for norms; zero adaLN modulations, attention gates and final projection (so every block starts as the identity).
/// Deterministic for a seed.
/// </summary>
internal static class DiTInitializer
{
    /// <summary>Initialises every parameter of <paramref name="model"/> in place.</summary>
    public static void Initialize(nn.Module model, long seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            var leaf = name[(name.LastIndexOf('.') + 1)..];
            if (name.Contains("adaLN_modulation", StringComparison.Ordinal) || name.StartsWith("final_layer.linear", StringComparison.Ordinal)
                || leaf == "gate")
                p.zero_();
            else if (IsNorm(name))
            {
                if (leaf == "bias") p.zero_();
                else p.fill_(1.0);
            }
            else if (leaf == "bias")
                p.zero_();
            else if (name == "pad_token" || name.StartsWith("t_embedder.", StringComparison.Ordinal) || name.StartsWith("cap_embedder.", StringComparison.Ordinal))
                p.normal_(0, 0.02, generator);
            else if (p.dim() == 2)
            {
                var bound = Math.Sqrt(6.0 / (p.shape[0] + p.shape[1]));
                p.uniform_(-bound, bound, generator);
            }
            else
                p.normal_(0, 0.02, generator);
        }
    }

    private static bool IsNorm(string name)
    {
        var module = name.Contains('.') ? name[..name.LastIndexOf('.')] : name;
        var last = module[(module.LastIndexOf('.') + 1)..];
        return last.EndsWith("norm", StringComparison.Ordinal) || last.Contains("norm1", StringComparison.Ordinal) || last.Contains("norm2", StringComparison.Ordinal)
               || module == "cap_embedder.0";
    }
}
