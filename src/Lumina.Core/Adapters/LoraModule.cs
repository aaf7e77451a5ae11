using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Adapters;

/// <summary>
/// One module of an adapter file: the factors that make one weight update, the scale its reference applies, and the
/// name it targets in its own key layout. The factors stay on the CPU in the file's dtype until they are applied.
/// </summary>
internal sealed class LoraModule : IDisposable
{
    private readonly Dictionary<string, Tensor> _factors;

    internal LoraModule(string name, string target, LoraKeyForm form, LoraAdapterKind kind, Dictionary<string, Tensor> factors,
        IReadOnlyList<string> keys, double scale, int rank, double? alpha, long outFeatures, long inFeatures)
    {
        Name = name;
        Target = target;
        Form = form;
        Kind = kind;
        _factors = factors;
        Keys = keys;
        Scale = scale;
        Rank = rank;
        Alpha = alpha;
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
    }

    /// <summary>The module's name as the file spells it (the keys without their factor suffix).</summary>
    public string Name { get; }

    /// <summary>
    /// What the module names in its own layout: the underscored path for <see cref="LoraKeyForm.Kohya"/>, the model's
    /// module path for <see cref="LoraKeyForm.ComfyUI"/> and <see cref="LoraKeyForm.LuminaLegacy"/>, the diffusers module
    /// path for <see cref="LoraKeyForm.Diffusers"/>.
    /// </summary>
    public string Target { get; }

    /// <summary>The key layout, which also fixes the scaling rule.</summary>
    public LoraKeyForm Form { get; }

    /// <summary>LoRA, LoHa or LoKr.</summary>
    public LoraAdapterKind Kind { get; }

    /// <summary>Every file key this module consumed.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>
    /// The factor its reference multiplies the raw update by before the strength: alpha / rank (ComfyUI, with an
    /// alpha), lora_alpha / r (PEFT metadata), or 1.
    /// </summary>
    public double Scale { get; }

    /// <summary>The rank the scale divides by (0 for a LoKr with two full factors).</summary>
    public int Rank { get; }

    /// <summary>The alpha the file states for this module, or null.</summary>
    public double? Alpha { get; }

    /// <summary>Rows of the update.</summary>
    public long OutFeatures { get; }

    /// <summary>Columns of the update.</summary>
    public long InFeatures { get; }

    /// <summary>
    /// The raw update [out, in] before scale and strength, computed in float32 on <paramref name="device"/> the way
    /// ComfyUI computes it: <c>up @ down</c>; LoHa <c>(w1_a @ w1_b) * (w2_a @ w2_b)</c>; LoKr <c>kron(w1, w2)</c> with
    /// low-rank factors rebuilt by one matmul.
    /// </summary>
    public Tensor RawDelta(Device? device = null)
    {
        device ??= CPU;
        using var scope = NewDisposeScope();
        Tensor F(string key) => _factors[key].to(ScalarType.Float32, device);
        Tensor result = Kind switch
        {
            LoraAdapterKind.LoRA => mm(F("up"), F("down")),
            LoraAdapterKind.LoHa => mm(F("w1_a"), F("w1_b")).mul(mm(F("w2_a"), F("w2_b"))),
            _ => kron(_factors.ContainsKey("w1") ? F("w1") : mm(F("w1_a"), F("w1_b")),
                      _factors.ContainsKey("w2") ? F("w2") : mm(F("w2_a"), F("w2_b"))),
        };
        return result.reshape(OutFeatures, InFeatures).MoveToOuterDisposeScope();
    }

    /// <summary>Frees the factors.</summary>
    public void Dispose()
    {
        foreach (var t in _factors.Values) t.Dispose();
        _factors.Clear();
    }
}
