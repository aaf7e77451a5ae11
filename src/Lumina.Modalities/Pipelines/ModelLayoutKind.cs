namespace Lumina.Pipelines;

/// <summary>The published layouts of Lumina weights: two folder layouts and a single checkpoint file.</summary>
public enum ModelLayoutKind
{
    /// <summary>
    /// The original Lumina repos: <c>consolidated[_ema].00-of-01.safetensors</c> for the DiT, the architecture given as
    /// a named preset; the text encoder and VAE come from their own folders or repos.
    /// </summary>
    Original,

    /// <summary>
    /// diffusers: <c>model_index.json</c>, <c>transformer/</c>, <c>vae/</c>, <c>text_encoder/</c> (possibly sharded),
    /// <c>tokenizer/</c>, <c>scheduler/scheduler_config.json</c>.
    /// </summary>
    Diffusers,

    /// <summary>
    /// One transformer checkpoint file (a ComfyUI single file such as <c>Comfy-Org/Lumina_Image_2.0_Repackaged</c>'s, or a
    /// fine-tune): the architecture comes from its header (or a preset), the text encoder and VAE from their own folders
    /// or repos (<see cref="ModelLoadOptions.TextEncoderPath"/>, <see cref="ModelLoadOptions.VaePath"/>, else the family's).
    /// </summary>
    SingleFile,
}
