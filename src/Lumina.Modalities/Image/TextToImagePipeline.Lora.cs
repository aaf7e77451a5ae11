using Lumina.Adapters;
using Lumina.Models.DiT;
using TorchSharp;

namespace Lumina.Pipelines;

public sealed partial class TextToImagePipeline
{
    private LoraStack? loras;

    /// <summary>The removable LoRAs applied to the transformer, in the order they were loaded.</summary>
    public IReadOnlyList<LoraHandle> Loras => loras?.Loaded ?? [];

    /// <summary>
    /// Applies a LoRA file to the transformer: kohya (<c>lora_unet_*</c>), ComfyUI (<c>diffusion_model.*</c>) or
    /// diffusers/PEFT (<c>transformer.*</c>); LoRA, LoHa or LoKr; fp32, fp16 or bf16. Each form is scaled as its reference
    /// scales it, then multiplied by <paramref name="strength"/>. Several LoRAs stack in load order. Strict by default:
    /// keys that patch nothing in this model fail the load and are named. Waits for a running generation.
    /// </summary>
    /// <param name="path">The adapter file.</param>
    /// <param name="strength">Multiplies the update (1 = as trained, 0.5 = half, negative inverts).</param>
    /// <param name="mode"><see cref="LoraApplyMode.Removable"/> (default) keeps the original weights so that
    /// <see cref="UnloadLora"/> restores them bit for bit; <see cref="LoraApplyMode.Merge"/> saves that memory and is permanent.</param>
    /// <param name="options">Strictness; null = strict.</param>
    /// <returns>The applied adapter (its patched weights and, when ignoring them, the keys that patched nothing).</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="LoraFormatException">The file is malformed.</exception>
    /// <exception cref="LoraMismatchException">Keys patch nothing (strict) or an update does not fit its weight.</exception>
    /// <exception cref="NotSupportedException">The transformer exposes no weights to patch, or keeps GGUF weights quantized.</exception>
    public LoraHandle LoadLora(string path, double strength = 1.0, LoraApplyMode mode = LoraApplyMode.Removable, LoraLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!double.IsFinite(strength))
            throw new ArgumentOutOfRangeException(nameof(strength), strength, "The LoRA strength must be a finite number (1 = as trained, 0 = off).");
        if (!File.Exists(path))
            throw new FileNotFoundException($"The LoRA file '{path}' does not exist.", path);
        if (Transformer.Module is Lumina2Transformer { KeepsQuantizedWeights: true })
            throw new NotSupportedException(
                $"The transformer's GGUF weights are kept quantized, so a LoRA has no dense weights to patch. Load it with {nameof(Tensors.QuantizedWeightsMode)}.{nameof(Tensors.QuantizedWeightsMode.DequantizeAtLoad)} " +
                "(builder .WithQuantizedWeights(QuantizedWeightsMode.DequantizeAtLoad), CLI --gguf-weights dequantize) to apply LoRAs.");
        return gate.Run(() =>
        {
            loras ??= new LoraStack(TransformerModule());
            return loras.Add(path, strength, mode, options);
        });
    }

    /// <summary>Removes a LoRA loaded with <see cref="LoraApplyMode.Removable"/>: the weights it patched are recomputed
    /// from the originals (bit for bit the base model once none is left).</summary>
    /// <exception cref="InvalidOperationException">The handle is not loaded in this pipeline.</exception>
    public void UnloadLora(LoraHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        gate.Run(() =>
        {
            if (loras is null) throw new InvalidOperationException($"The LoRA '{handle.SourcePath}' is not loaded in this pipeline.");
            loras.Remove(handle);
            return 0;
        });
    }

    /// <summary>Changes the strength of a removable LoRA (recomputed from the original weights).</summary>
    public void SetLoraStrength(LoraHandle handle, double strength)
    {
        ArgumentNullException.ThrowIfNull(handle);
        gate.Run(() =>
        {
            if (loras is null) throw new InvalidOperationException($"The LoRA '{handle.SourcePath}' is not loaded in this pipeline.");
            loras.SetStrength(handle, strength);
            return 0;
        });
    }

    /// <summary>Removes every removable LoRA: the transformer gets its original weights back, bit for bit.</summary>
    public void UnloadAllLoras() => gate.Run(() =>
    {
        loras?.Clear();
        return 0;
    });

    // The module whose state_dict the adapters patch (upstream key names).
    private torch.nn.Module TransformerModule() => Transformer.Module;

    // The applied LoRAs for the image metadata: "file:strength, …" in load order, or null.
    private string? LoraSummary()
    {
        var applied = loras?.Loaded.Where(h => !h.IsRemoved).ToList();
        return applied is null || applied.Count == 0 ? null
            : string.Join(", ", applied.Select(h => $"{Path.GetFileName(h.SourcePath)}:{h.Strength.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}"));
    }

    private sealed class LoraRelease(TextToImagePipeline owner) : IDisposable
    {
        public void Dispose() => owner.loras?.Dispose();
    }
}
