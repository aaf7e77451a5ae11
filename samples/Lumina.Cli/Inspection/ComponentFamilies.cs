using System.Text.Json.Nodes;

namespace Lumina.Cli.Inspection;

/// <summary>Recognises which Lumina component (a registered DiT family, a text encoder, a VAE, a vocoder) a checkpoint holds from its tensor names (and config.json when present).</summary>
internal static class ComponentFamilies
{
    /// <summary>Names the model family and the key layout (original Lumina, diffusers or transformers names).</summary>
    public static (string Family, string Layout) Detect(IReadOnlyCollection<string> keys, JsonNode? config)
    {
        bool Has(string key) => keys.Contains(key);
        bool Any(string prefix) => keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
        // Hugging Face text models are stored with or without the "model." prefix.
        bool HasTextKey(string suffix) => Has(suffix) || Has("model." + suffix);

        // Diffusion transformers: the model-family registry knows every family's key names.
        if (Lumina.Families.ModelFamilies.DetectCheckpoint(keys) is { } dit)
            return (dit.Family.DisplayName, dit.Layout == Lumina.Pipelines.ModelLayoutKind.Diffusers ? "diffusers"
                : Any("model.diffusion_model.") ? "ComfyUI (original names behind model.diffusion_model.)" : "original");
        if (Any("encoder.block.0.layer.0.SelfAttention."))
            return ("T5 encoder", "transformers");
        if (HasTextKey("embed_tokens.weight"))
        {
            var modelType = config?["model_type"]?.GetValue<string>();
            var family = modelType switch
            {
                "gemma" => "Gemma",
                "gemma2" => "Gemma 2",
                "llama" => "LLaMA",
                _ when keys.Any(k => k.EndsWith("pre_feedforward_layernorm.weight", StringComparison.Ordinal)) => "Gemma 2",
                _ => "decoder text model (Gemma or LLaMA; config.json names which)",
            };
            return ($"{family} text encoder", "transformers");
        }

        if (Any("decoder.up_blocks.") || Any("encoder.down_blocks."))
            return ("AutoencoderKL (2-D image VAE)", "diffusers");
        if (Any("decoder.up.") || Any("encoder.down."))
            return ("AutoencoderKL 1-D (mel VAE)", "original");
        if (Any("conv_pre.") && Any("resblocks."))
            return ("BigVGAN vocoder", "original");
        return ("unknown", "unknown");
    }
}
