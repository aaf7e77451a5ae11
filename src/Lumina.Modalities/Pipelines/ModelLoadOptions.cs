using Lumina.Models.DiT;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>Where and how a pipeline's components are loaded.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Device of every model (null = CPU).</summary>
    public Device? Device { get; init; }

    /// <summary>Weight dtype (null = float32, the CPU default; bf16 is slower than fp32 on most CPUs).</summary>
    public ScalarType? DType { get; init; }

    /// <summary>Original layout: prefer <c>consolidated_ema</c> over <c>consolidated</c> (upstream's demos use EMA).</summary>
    public bool PreferEma { get; init; } = true;

    /// <summary>Original layout: the named DiT preset (see <see cref="NextDiTConfigJson.Preset"/>); default NextDiT-2B-GQA.</summary>
    public string? TransformerPreset { get; init; }

    /// <summary>Original layout: an explicit DiT architecture (wins over <see cref="TransformerPreset"/>).</summary>
    public NextDiTConfig? TransformerConfig { get; init; }

    /// <summary>
    /// Folder (or Hub repo id) of the text encoder (config.json + model*.safetensors). Default: the model folder's
    /// <c>text_encoder/</c>, else (original layout) <see cref="DefaultTextEncoderRepo"/>.
    /// </summary>
    public string? TextEncoderPath { get; init; }

    /// <summary>Folder of the tokenizer. Default: the model folder's <c>tokenizer/</c>, else the text encoder folder.</summary>
    public string? TokenizerPath { get; init; }

    /// <summary>
    /// Folder (or Hub repo id) of the VAE (config.json + diffusion_pytorch_model.safetensors). Default: the model
    /// folder's <c>vae/</c>, else (original layout) <see cref="DefaultVaeRepo"/>.
    /// </summary>
    public string? VaePath { get; init; }

    /// <summary>
    /// Original layout without <c>text_encoder/</c> and no <see cref="TextEncoderPath"/>: the repo fetched through the
    /// resolver (upstream Lumina-Next reads <c>google/gemma-2b</c>). Null = fail instead.
    /// </summary>
    public string? DefaultTextEncoderRepo { get; init; } = "google/gemma-2b";

    /// <summary>Original layout without <c>vae/</c> and no <see cref="VaePath"/>: the VAE repo (<c>stabilityai/sdxl-vae</c>). Null = fail instead.</summary>
    public string? DefaultVaeRepo { get; init; } = "stabilityai/sdxl-vae";

    /// <summary>Token count at the DiT's training resolution, for proportional attention ((1024/16)² = 4096).</summary>
    public int BaseSequenceLength { get; init; } = 4096;
}
