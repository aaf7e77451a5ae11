namespace Lumina.Pipelines;

/// <summary>What a model reference stands for, so a resolver downloads only the files that part needs.</summary>
public enum ModelComponent
{
    /// <summary>A whole pipeline repo in either layout (diffusers or original Lumina).</summary>
    Pipeline,

    /// <summary>A Hugging Face text-encoder repo (config.json, model*.safetensors, tokenizer files), e.g. google/gemma-2b.</summary>
    TextEncoder,

    /// <summary>A diffusers VAE repo (config.json, diffusion_pytorch_model.safetensors), e.g. stabilityai/sdxl-vae.</summary>
    Vae,
}

/// <summary>
/// Turns a model reference (a Hub repo id such as <c>Alpha-VLLM/Lumina-Next-SFT-diffusers</c>, optionally
/// <c>org/name@revision</c>) into a local folder, downloading when needed. Local folders never reach a resolver.
/// <see cref="HubModelResolver"/> is the Lumina.Hub implementation.
/// </summary>
/// <param name="reference">The repo id.</param>
/// <param name="component">What the repo holds.</param>
/// <param name="cancellationToken">Cancels the download.</param>
/// <returns>The local folder.</returns>
public delegate Task<string> ModelResolver(string reference, ModelComponent component, CancellationToken cancellationToken);
