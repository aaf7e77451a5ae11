using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Training.Lora;

/// <summary>
/// One low-rank adapter on a <see cref="Linear"/>: the effective weight is W + (α/r)·B·A with A [r, in] and B [out, r].
/// A starts like PEFT (Kaiming-uniform, bound 1/√in) and B at zero.
/// </summary>
internal sealed class LoraAdapter : IDisposable
{
    internal LoraAdapter(string name, Linear target, int rank, double alpha, Generator generator)
    {
        Name = name;
        Target = target;
        Rank = rank;
        Alpha = alpha;
        var weight = target.weight ?? throw new ArgumentException($"Linear '{name}' has no weight.");
        var (outF, inF) = (weight.shape[0], weight.shape[1]);
        if (rank > Math.Min(outF, inF))
            throw new ArgumentException($"LoRA rank {rank} exceeds the size of '{name}' ([{outF}, {inF}]); choose a rank ≤ {Math.Min(outF, inF)}.");
        using (no_grad())
        {
            var bound = 1.0 / Math.Sqrt(inF);
            var a = empty([rank, inF], weight.dtype, weight.device).uniform_(-bound, bound, generator);
            A = new Parameter(a, requires_grad: true);
            B = new Parameter(zeros([outF, rank], weight.dtype, weight.device), requires_grad: true);
        }
    }

    /// <summary>Module path of the adapted linear (for example <c>layers.0.attention.wq</c>).</summary>
    public string Name { get; }

    /// <summary>The adapted linear.</summary>
    public Linear Target { get; }

    /// <summary>Rank r.</summary>
    public int Rank { get; }

    /// <summary>Alpha α.</summary>
    public double Alpha { get; }

    /// <summary>The update scale α/r.</summary>
    public double Scale => Alpha / Rank;

    /// <summary>Down projection A [r, in].</summary>
    public Parameter A { get; }

    /// <summary>Up projection B [out, r].</summary>
    public Parameter B { get; }

    /// <summary>The weight update (α/r)·B·A [out, in], tracked by autograd when A/B require gradients.</summary>
    public Tensor Delta() => B.mm(A).mul_(Scale);

    /// <summary>Releases A and B.</summary>
    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}
