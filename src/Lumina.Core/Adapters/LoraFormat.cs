namespace Lumina.Adapters;

/// <summary>
/// The key layout an adapter module was written in. It decides how the module names a model weight and which
/// reference's scaling rule applies (see <c>docs/lora.md</c>).
/// </summary>
internal enum LoraKeyForm
{
    /// <summary>
    /// kohya sd-scripts / LyCORIS: <c>lora_unet_{module path with '.' → '_'}</c> with <c>lora_down</c>/<c>lora_up</c>
    /// (or LoHa/LoKr factors) and a 0-dim <c>.alpha</c>. Scaled as ComfyUI does: alpha / rank, 1 without alpha.
    /// </summary>
    Kohya = 0,

    /// <summary>
    /// ComfyUI: <c>diffusion_model.{module path}</c> with <c>lora_A</c>/<c>lora_B</c> (or <c>lora_down</c>/<c>lora_up</c>)
    /// and an optional <c>.alpha</c>. Scaled as ComfyUI does: alpha / rank, 1 without alpha (diffusers agrees when
    /// there is no alpha).
    /// </summary>
    ComfyUI = 1,

    /// <summary>
    /// diffusers / PEFT: <c>transformer.{diffusers module path}</c> with <c>lora_A</c>/<c>lora_B</c>. Scaled as PEFT
    /// does: <c>lora_alpha / r</c> from the file's <c>lora_adapter_metadata</c>, 1 without it; <c>.alpha</c> keys are
    /// never read.
    /// </summary>
    Diffusers = 2,

    /// <summary>
    /// The adapter files Lumina.NET's trainer wrote before it switched to <see cref="ComfyUI"/>: bare module paths with
    /// <c>lora_A</c>/<c>lora_B</c> and <c>lora_rank</c>/<c>lora_alpha</c> metadata (<c>format = lumina-lora</c>).
    /// </summary>
    LuminaLegacy = 3,
}

/// <summary>The kind of weight update an adapter module holds.</summary>
internal enum LoraAdapterKind
{
    /// <summary>Low-rank: ΔW = up · down.</summary>
    LoRA = 0,

    /// <summary>LyCORIS LoHa: ΔW = (w1_a · w1_b) ⊙ (w2_a · w2_b).</summary>
    LoHa = 1,

    /// <summary>LyCORIS LoKr: ΔW = w1 ⊗ w2, each factor full or low-rank.</summary>
    LoKr = 2,
}

/// <summary>How an adapter is applied to the model weights.</summary>
public enum LoraApplyMode
{
    /// <summary>
    /// Patched into the weights with the original values kept aside, so the adapter can be removed (or its strength
    /// changed) and the base model comes back bit for bit. Costs one copy of every patched weight.
    /// </summary>
    Removable = 0,

    /// <summary>Added into the weights for good: no copy is kept and the adapter cannot be removed.</summary>
    Merge = 1,
}
