using System.CommandLine;
using Lumina.Pipelines;
using Lumina.Tensors;

namespace Lumina.Cli.Commands;

/// <summary>
/// <c>--transformer FILE</c> (transformer weights from a single file instead of the model folder's: a ComfyUI-GGUF
/// <c>.gguf</c> or a <c>.safetensors</c>) and <c>--gguf-weights keep|dequantize</c> (how a GGUF's quantized weights are held).
/// </summary>
internal sealed class TransformerFileOptions
{
    private TransformerFileOptions(Option<string?> file, Option<string> mode)
    {
        File = file;
        Mode = mode;
    }

    /// <summary><c>--transformer</c>.</summary>
    public Option<string?> File { get; }

    /// <summary><c>--gguf-weights</c>.</summary>
    public Option<string> Mode { get; }

    /// <summary>Both options, checked at parse time (the file must exist, the mode be keep or dequantize).</summary>
    public static TransformerFileOptions Create()
    {
        var file = new Option<string?>("--transformer")
        {
            Description = "Transformer weights from this file instead of the model folder's, for example a quantized Lumina-Image 2.0 GGUF " +
                          "(ComfyUI-GGUF's lumina2 files: F16, BF16, Q8_0, Q4_0, Q4_K, …) or a single .safetensors; the folder gives the text encoder, VAE and settings.",
        };
        file.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } path && !System.IO.File.Exists(path))
                r.AddError($"--transformer: the file '{path}' does not exist.");
        });
        var mode = new Option<string>("--gguf-weights")
        {
            Description = "With a .gguf --transformer: 'keep' (default) keeps the weights quantized and dequantizes one block at a time (memory about the file's size); " +
                          "'dequantize' makes a dense model at load (needed for --lora).",
            DefaultValueFactory = _ => "keep",
        };
        mode.AcceptOnlyFromAmong("keep", "dequantize");
        return new TransformerFileOptions(file, mode);
    }

    /// <summary>Applies the parsed values to the builder.</summary>
    public TextToImagePipelineBuilder Apply(TextToImagePipelineBuilder builder, ParseResult result)
    {
        if (result.GetValue(File) is { } path)
            builder = builder.WithTransformerFile(path);
        return builder.WithQuantizedWeights(result.GetValue(Mode) == "dequantize" ? QuantizedWeightsMode.DequantizeAtLoad : QuantizedWeightsMode.KeepQuantized);
    }
}
