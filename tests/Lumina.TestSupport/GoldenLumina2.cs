using Lumina.Models.DiT;

namespace Lumina.Testing;

/// <summary>The tiny Lumina-Image 2.0 configs of the golden parts 'lumina2' (upstream) and 'lumina2_diffusers'.</summary>
public static class GoldenLumina2
{
    /// <summary>The upstream NextDiT config of 'lumina2' (also 'lumina2_dpm'), q/k eps 1e-6, with norm_final.</summary>
    public static Lumina2Config UpstreamConfig()
    {
        var json = Golden.Json("lumina2");
        var c = json["config"]!;
        return new Lumina2Config
        {
            PatchSize = (int)c["patch_size"]!, InChannels = (int)c["in_channels"]!, Dim = (int)c["dim"]!,
            Layers = (int)c["n_layers"]!, RefinerLayers = (int)c["n_refiner_layers"]!, Heads = (int)c["n_heads"]!,
            KvHeads = (int?)c["n_kv_heads"], MultipleOf = (int)c["multiple_of"]!, NormEps = (double)c["norm_eps"]!,
            QkNorm = (bool)c["qk_norm"]!, CaptionDim = (int)c["cap_feat_dim"]!,
            QkNormEps = (double)json["derived"]!["q_norm_eps"]!,
            AxesDims = c["axes_dims"]!.AsArray().Select(n => (int)n!).ToArray(),
            AxesLens = c["axes_lens"]!.AsArray().Select(n => (int)n!).ToArray(),
        };
    }

    /// <summary>The diffusers <c>Lumina2Transformer2DModel</c> config of 'lumina2_diffusers' (q/k eps 1e-5, no norm_final).</summary>
    public static Lumina2Config DiffusersConfig()
    {
        var c = Golden.Json("lumina2_diffusers")["config"]!;
        return UpstreamConfig() with
        {
            Dim = (int)c["hidden_size"]!, Layers = (int)c["num_layers"]!, RefinerLayers = (int)c["num_refiner_layers"]!,
            Heads = (int)c["num_attention_heads"]!, KvHeads = (int)c["num_kv_heads"]!, MultipleOf = (int)c["multiple_of"]!,
            NormEps = (double)c["norm_eps"]!, CaptionDim = (int)c["cap_feat_dim"]!,
            AxesDims = c["axes_dim_rope"]!.AsArray().Select(n => (int)n!).ToArray(),
            AxesLens = c["axes_lens"]!.AsArray().Select(n => (int)n!).ToArray(),
            QkNormEps = 1e-5, NormFinal = false,
        };
    }
}
