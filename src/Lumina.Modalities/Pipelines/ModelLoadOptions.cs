using Lumina.Models.DiT;
using Lumina.Tensors;
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

    /// <summary>
    /// Original layout: the named DiT preset (see <see cref="Families.ModelFamilies.Preset"/>); default: the family's
    /// released architecture (NextDiT-2B-GQA for a Next-DiT checkpoint, FlagDiT-5B for a Flag-DiT one; the family is read
    /// from the checkpoint's keys).
    /// </summary>
    public string? TransformerPreset { get; init; }

    /// <summary>
    /// Original layout: an explicit architecture (wins over <see cref="TransformerPreset"/>). Its type must be the one the
    /// folder's family builds (<see cref="NextDiTConfig"/> for Lumina-Next, <see cref="FlagDiTConfig"/> for Lumina-T2I).
    /// </summary>
    public DiTConfig? TransformerConfig { get; init; }

    /// <summary>
    /// Transformer weights from this file instead of the folder's (a single-file checkpoint, for example a fine-tune or
    /// a quantized file). Null = the folder's own weights.
    /// </summary>
    public string? TransformerFile { get; init; }

    /// <summary>
    /// A GGUF transformer file (<see cref="TransformerFile"/> ending in <c>.gguf</c>, ComfyUI-GGUF's Lumina-Image 2.0
    /// files): keep its quantized matrices quantized and dequantize one block at a time during the forward
    /// (<see cref="QuantizedWeightsMode.KeepQuantized"/>, the default: resident memory about the size of the file, the
    /// forward about as fast as a dense one on a CPU), or dequantize everything at load
    /// (<see cref="QuantizedWeightsMode.DequantizeAtLoad"/>: a dense model in <see cref="DType"/>, needed to apply a LoRA).
    /// Ignored for safetensors weights.
    /// </summary>
    public QuantizedWeightsMode QuantizedWeights { get; init; } = QuantizedWeightsMode.KeepQuantized;

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
    /// resolver. Default: the family's upstream encoder (<c>google/gemma-2b</c> for Lumina-Next,
    /// <c>meta-llama/Llama-2-7b-hf</c> for Lumina-T2I). Set to <see cref="string.Empty"/> to fail instead.
    /// </summary>
    public string? DefaultTextEncoderRepo { get; init; }

    /// <summary>
    /// Original layout without <c>vae/</c> and no <see cref="VaePath"/>: the VAE repo. Null = the family's
    /// (<c>stabilityai/sdxl-vae</c> for Lumina-Next and Lumina-T2I). Set to <see cref="string.Empty"/> to fail instead.
    /// </summary>
    public string? DefaultVaeRepo { get; init; }

    /// <summary>
    /// Token count at the DiT's training resolution, for proportional attention. Null = the family's upstream value:
    /// (1024/16)² = 4096 for Next-DiT, 64² + 2·64 = 4224 for Flag-DiT.
    /// </summary>
    public int? BaseSequenceLength { get; init; }
}
