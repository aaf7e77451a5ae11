namespace Lumina.Pipelines;

/// <summary>
/// Turns a model reference (a Hub repo id such as <c>Alpha-VLLM/Lumina-Next-SFT-diffusers</c>) into a local folder,
/// downloading when needed. Local folders never reach a resolver.
/// </summary>
/// <param name="reference">The repo id (optionally <c>org/name@revision</c>).</param>
/// <param name="cancellationToken">Cancels the download.</param>
/// <returns>The local snapshot folder.</returns>
public delegate Task<string> ModelResolver(string reference, CancellationToken cancellationToken);
