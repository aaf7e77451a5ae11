namespace Lumina.Pipelines;

/// <summary>The two published folder layouts of Lumina weights.</summary>
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
}
