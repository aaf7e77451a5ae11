using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lumina.Tensors;
using static TorchSharp.torch;

namespace Lumina.Adapters;

/// <summary>
/// An adapter file parsed into modules: kohya (<c>lora_unet_*</c>), ComfyUI (<c>diffusion_model.*</c>),
/// diffusers/PEFT (<c>transformer.*</c>) and Lumina.NET's older trainer files; LoRA, LoHa and LoKr; any float dtype.
/// Keys that belong to no module (an unknown prefix or factor name, a diffusers <c>.alpha</c>) are kept in
/// <see cref="UnusedKeys"/> so that a strict apply can name them. Content that would change the result if ignored
/// (DoRA magnitudes, Tucker cores, convolution factors, <c>.diff</c> patches, OFT, GLoRA) is refused by name.
/// Parsing reads the factors into CPU tensors in their stored dtype; nothing is applied until a
/// <see cref="LoraStack"/> or <see cref="LoraStack.MergeInto"/> does it.
/// </summary>
public sealed partial class LoraFile : IDisposable
{
    /// <summary>The <c>__metadata__</c> key under which diffusers stores the PEFT <c>LoraConfig</c>.</summary>
    public const string DiffusersMetadataKey = "lora_adapter_metadata";

    private const string KohyaPrefix = "lora_unet_";
    private const string ComfyPrefix = "diffusion_model.";
    private const string DiffusersPrefix = "transformer.";

    // Factor suffixes, longest first so that ".lora_up.weight" wins over nothing shorter.
    private static readonly (string Suffix, string Factor)[] Suffixes =
    [
        (".lora_down.weight", "down"), (".lora_up.weight", "up"),
        (".lora_A.weight", "down"), (".lora_B.weight", "up"),
        (".hada_w1_a", "w1_a"), (".hada_w1_b", "w1_b"), (".hada_w2_a", "w2_a"), (".hada_w2_b", "w2_b"),
        (".lokr_w1_a", "w1_a"), (".lokr_w1_b", "w1_b"), (".lokr_w2_a", "w2_a"), (".lokr_w2_b", "w2_b"),
        (".lokr_w1", "w1"), (".lokr_w2", "w2"),
        (".alpha", "alpha"),
    ];

    private readonly List<LoraModule> _modules;

    private LoraFile(string path, IReadOnlyDictionary<string, string> metadata, List<LoraModule> modules, IReadOnlyList<string> unused)
    {
        SourcePath = path;
        Metadata = metadata;
        _modules = modules;
        UnusedKeys = unused;
    }

    /// <summary>The file the adapter came from.</summary>
    public string SourcePath { get; }

    /// <summary>The file's <c>__metadata__</c> strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The modules, in file key order.</summary>
    internal IReadOnlyList<LoraModule> Modules => _modules;

    /// <summary>Keys that belong to no module this loader understands.</summary>
    public IReadOnlyList<string> UnusedKeys { get; }

    /// <summary>Reads and parses an adapter file.</summary>
    /// <param name="path">A <c>.safetensors</c> adapter.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="SafetensorsException">The file is not a valid safetensors file.</exception>
    /// <exception cref="LoraFormatException">A module is incomplete, misshapen, its metadata is unreadable, or the file holds
    /// adapter content Lumina does not apply (DoRA, Tucker cores, convolution factors, diff patches, OFT, GLoRA).</exception>
    public static LoraFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The LoRA file '{path}' does not exist.", path);
        using var file = SafetensorsFile.Open(path);
        var metadata = file.Metadata;
        var legacy = metadata.TryGetValue("format", out var format) && format == "lumina-lora";
        var peft = ReadPeftConfig(path, metadata);

        RefuseUnsupported(path, file.Tensors);
        var groups = new Dictionary<string, Dictionary<string, SafetensorsTensorInfo>>(StringComparer.Ordinal);
        var order = new List<string>();
        var unused = new List<string>();
        foreach (var info in file.Tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            var match = Suffixes.FirstOrDefault(s => info.Name.EndsWith(s.Suffix, StringComparison.Ordinal));
            var name = match.Suffix is null ? null : info.Name[..^match.Suffix.Length];
            if (name is null || FormOf(name, legacy) is null || (match.Factor == "alpha" && FormOf(name, legacy) == LoraKeyForm.Diffusers))
            {
                unused.Add(info.Name);
                continue;
            }
            if (!groups.TryGetValue(name, out var g))
            {
                groups[name] = g = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
                order.Add(name);
            }
            if (!g.TryAdd(match.Factor, info))
                throw new LoraFormatException(path, $"module '{name}' has two '{match.Factor}' factors ('{g[match.Factor].Name}' and '{info.Name}').");
        }

        var plans = new List<(string Name, LoraKeyForm Form, LoraAdapterKind Kind, Dictionary<string, SafetensorsTensorInfo> Factors, long Out, long In, int Rank)>();
        foreach (var name in order)
        {
            var g = groups[name];
            var form = FormOf(name, legacy)!.Value;
            var (kind, outF, inF, rank) = Classify(path, name, form, g);
            if (kind is null)
            {
                unused.AddRange(g.Values.Select(i => i.Name));
                continue;
            }
            plans.Add((name, form, kind.Value, g, outF, inF, rank));
        }

        var diffusersRanks = plans.Where(p => p.Form == LoraKeyForm.Diffusers).Select(p => p.Rank).ToList();
        var modules = new List<LoraModule>();
        try
        {
            foreach (var p in plans)
            {
                double? alpha = p.Factors.TryGetValue("alpha", out var alphaInfo) ? ReadScalar(file, alphaInfo, path) : null;
                var target = TargetOf(p.Name, p.Form);
                double scale;
                var rank = p.Rank;
                switch (p.Form)
                {
                    case LoraKeyForm.Diffusers:
                        (scale, alpha) = PeftScale(path, peft, target, rank, diffusersRanks);
                        break;
                    case LoraKeyForm.LuminaLegacy:
                        alpha = LegacyAlpha(path, metadata);
                        scale = alpha.Value / rank;
                        break;
                    default:
                        // ComfyUI: alpha / rank with rank = the low-rank factor's inner size; 1 without an alpha (or, for
                        // a LoKr of two full factors, always 1).
                        scale = alpha is null || rank == 0 ? 1.0 : alpha.Value / rank;
                        break;
                }
                var factors = new Dictionary<string, TorchSharp.torch.Tensor>(StringComparer.Ordinal);
                foreach (var (factor, info) in p.Factors)
                    if (factor != "alpha")
                        factors[factor] = file.Read(info.Name);
                modules.Add(new LoraModule(p.Name, target, p.Form, p.Kind, factors, p.Factors.Values.Select(i => i.Name).ToList(),
                    scale, rank, alpha, p.Out, p.In));
            }
        }
        catch
        {
            foreach (var m in modules) m.Dispose();
            throw;
        }
        return new LoraFile(path, metadata, modules, unused);
    }

    // Adapter content that ComfyUI or LyCORIS can apply but this loader cannot: ignoring it would silently change the
    // result (a DoRA without its magnitude, a Tucker LoRA without its core), so the file is refused, naming the feature.
    private static readonly (string Suffix, string Feature)[] UnsupportedSuffixes =
    [
        (".dora_scale", "DoRA (weight-decomposed LoRA: its magnitude vectors)"),
        (".lora_mid.weight", "Tucker-decomposed LoRA (LyCORIS LoCon 'lora_mid' cores)"),
        (".hada_t1", "Tucker-decomposed LoHa ('hada_t1/t2' cores)"), (".hada_t2", "Tucker-decomposed LoHa ('hada_t1/t2' cores)"),
        (".lokr_t2", "Tucker-decomposed LoKr ('lokr_t2' cores)"),
        (".diff", "full-weight difference patches ('.diff')"), (".diff_b", "full-weight difference patches ('.diff_b')"),
        (".oft_blocks", "OFT/BOFT (orthogonal fine-tuning)"), (".oft_diag", "OFT/BOFT (orthogonal fine-tuning)"),
        (".a1.weight", "GLoRA"), (".a2.weight", "GLoRA"), (".b1.weight", "GLoRA"), (".b2.weight", "GLoRA"),
        (".set_weight", "weight replacement ('.set_weight')"),
    ];

    private static void RefuseUnsupported(string path, IReadOnlyList<SafetensorsTensorInfo> tensors)
    {
        var found = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string feature, string key)
        {
            if (!found.TryGetValue(feature, out var keys)) found[feature] = keys = [];
            keys.Add(key);
        }
        foreach (var info in tensors)
        {
            var match = UnsupportedSuffixes.FirstOrDefault(u => info.Name.EndsWith(u.Suffix, StringComparison.Ordinal));
            if (match.Suffix is not null)
                Add(match.Feature, info.Name);
            else if (info.Shape.Count > 2 && Suffixes.Any(s => s.Factor != "alpha" && info.Name.EndsWith(s.Suffix, StringComparison.Ordinal)))
                Add("convolution LoRA (factors with more than 2 dimensions; Lumina's transformers patch only linear layers)", info.Name);
        }
        if (found.Count == 0) return;
        var parts = found.Select(f => $"{f.Key}: {string.Join(", ", f.Value.Take(3).Select(k => $"'{SafetensorsHeader.Shorten(k)}'"))}{(f.Value.Count > 3 ? $" and {f.Value.Count - 3} more" : "")}");
        throw new LoraFormatException(path,
            $"it holds adapter content Lumina does not apply — {string.Join("; ", parts)}. Supported: LoRA, LoHa and LoKr on linear layers (kohya, ComfyUI and diffusers/PEFT keys); re-export the adapter without these parts.");
    }

    private static LoraKeyForm? FormOf(string name, bool legacy)
    {
        if (name.StartsWith(KohyaPrefix, StringComparison.Ordinal) && name.Length > KohyaPrefix.Length) return LoraKeyForm.Kohya;
        if (name.StartsWith(ComfyPrefix, StringComparison.Ordinal) && name.Length > ComfyPrefix.Length) return LoraKeyForm.ComfyUI;
        if (name.StartsWith(DiffusersPrefix, StringComparison.Ordinal) && name.Length > DiffusersPrefix.Length) return LoraKeyForm.Diffusers;
        return legacy ? LoraKeyForm.LuminaLegacy : null;
    }

    private static string TargetOf(string name, LoraKeyForm form) => form switch
    {
        LoraKeyForm.Kohya => name[KohyaPrefix.Length..],
        LoraKeyForm.ComfyUI => name[ComfyPrefix.Length..],
        LoraKeyForm.Diffusers => name[DiffusersPrefix.Length..],
        _ => name,
    };

    private static (LoraAdapterKind? Kind, long Out, long In, int Rank) Classify(string path, string name, LoraKeyForm form,
        Dictionary<string, SafetensorsTensorInfo> g)
    {
        bool Has(string f) => g.ContainsKey(f);
        IReadOnlyList<long> Shape(string f)
        {
            var s = g[f].Shape;
            if (s.Count != 2)
                throw new LoraFormatException(path, $"'{g[f].Name}' is [{string.Join(", ", s)}]; only 2-D (linear) factors are supported.");
            if (!g[f].DType.IsSupported() || g[f].DType == SafetensorsDType.BOOL || !IsFloat(g[f].DType))
                throw new LoraFormatException(path, $"'{g[f].Name}' has dtype {g[f].DType}; adapter factors must be floating point.");
            return s;
        }
        void Require(params string[] factors)
        {
            var missing = factors.Where(f => !Has(f)).ToList();
            if (missing.Count > 0)
                throw new LoraFormatException(path,
                    $"module '{name}' is incomplete: it has [{string.Join(", ", g.Values.Select(i => i.Name))}] but lacks its {string.Join(", ", missing)} factor(s).");
        }

        if (Has("up") || Has("down"))
        {
            Require("up", "down");
            if (g.Keys.Any(k => k is not ("up" or "down" or "alpha")))
                throw new LoraFormatException(path, $"module '{name}' mixes LoRA factors with LoHa/LoKr factors.");
            var (up, down) = (Shape("up"), Shape("down"));
            if (up[1] != down[0])
                throw new LoraFormatException(path, $"module '{name}': up is [{up[0]}, {up[1]}] but down is [{down[0]}, {down[1]}]; their rank sides must agree.");
            return (LoraAdapterKind.LoRA, up[0], down[1], (int)down[0]);
        }
        // LyCORIS: ComfyUI reads them under any key form it maps; diffusers has no LyCORIS path for these models.
        if (form == LoraKeyForm.Diffusers)
            return (null, 0, 0, 0);
        var names = g.Values.Select(i => i.Name).ToList();
        if (names.Any(n => n.Contains(".hada_", StringComparison.Ordinal)))
        {
            Require("w1_a", "w1_b", "w2_a", "w2_b");
            var (a1, b1, a2, b2) = (Shape("w1_a"), Shape("w1_b"), Shape("w2_a"), Shape("w2_b"));
            if (a1[1] != b1[0] || a2[1] != b2[0] || a1[0] != a2[0] || b1[1] != b2[1])
                throw new LoraFormatException(path, $"module '{name}': the LoHa factors' shapes do not fit together.");
            return (LoraAdapterKind.LoHa, a1[0], b1[1], (int)b1[0]);
        }
        if (names.Any(n => n.Contains(".lokr_", StringComparison.Ordinal)))
        {
            // Each Kronecker factor is stored whole (w1, w2) or as a low-rank pair (w1_a·w1_b, w2_a·w2_b); the rank is
            // that of the last factored one.
            (long Rows, long Cols, int Rank) KroneckerFactor(string w)
            {
                if (Has(w))
                {
                    var s = Shape(w);
                    return (s[0], s[1], 0);
                }
                Require($"{w}_a", $"{w}_b");
                var (a, b) = (Shape($"{w}_a"), Shape($"{w}_b"));
                if (a[1] != b[0]) throw new LoraFormatException(path, $"module '{name}': lokr_{w}_a and lokr_{w}_b do not fit together.");
                return (a[0], b[1], (int)b[0]);
            }
            var (w1, w2) = (KroneckerFactor("w1"), KroneckerFactor("w2"));
            return (LoraAdapterKind.LoKr, w1.Rows * w2.Rows, w1.Cols * w2.Cols, w2.Rank != 0 ? w2.Rank : w1.Rank);
        }
        return (null, 0, 0, 0);
    }

    private static bool IsFloat(SafetensorsDType t) =>
        t is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F64;

    private static double ReadScalar(SafetensorsFile file, SafetensorsTensorInfo info, string path)
    {
        if (info.ElementCount != 1 || !IsFloat(info.DType) && info.DType is not (SafetensorsDType.I64 or SafetensorsDType.I32))
            throw new LoraFormatException(path, $"'{info.Name}' must hold one number; it is {info.DType}[{string.Join(", ", info.Shape)}].");
        using var t = file.Read(info.Name, ScalarType.Float64);
        var value = t.item<double>();
        if (!double.IsFinite(value))
            throw new LoraFormatException(path, $"'{info.Name}' is {value}.");
        return value;
    }

    private static double LegacyAlpha(string path, IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue("lora_alpha", out var text)
            || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var alpha) || !double.IsFinite(alpha))
            throw new LoraFormatException(path, "a Lumina adapter file must state lora_alpha in its metadata.");
        return alpha;
    }

    /// <summary>The parts of a PEFT <c>LoraConfig</c> that decide the scale.</summary>
    private sealed record PeftConfig(int? R, double? Alpha, IReadOnlyDictionary<string, int> RankPattern,
        IReadOnlyDictionary<string, double> AlphaPattern, bool UseRsLora);

    private static PeftConfig? ReadPeftConfig(string path, IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(DiffusersMetadataKey, out var json))
            return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new LoraFormatException(path, $"'{DiffusersMetadataKey}' is not a JSON object.");
            // diffusers stores the transformer's LoraConfig with every key prefixed 'transformer.'.
            var config = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
                if (p.Name.StartsWith(DiffusersPrefix, StringComparison.Ordinal))
                    config[p.Name[DiffusersPrefix.Length..]] = p.Value.Clone();
            if (config.Count == 0)
                return null;
            int? r = config.TryGetValue("r", out var rv) && rv.ValueKind == JsonValueKind.Number ? rv.GetInt32() : null;
            double? alpha = config.TryGetValue("lora_alpha", out var av) && av.ValueKind == JsonValueKind.Number ? av.GetDouble() : null;
            var rankPattern = new Dictionary<string, int>(StringComparer.Ordinal);
            if (config.TryGetValue("rank_pattern", out var rp) && rp.ValueKind == JsonValueKind.Object)
                foreach (var p in rp.EnumerateObject()) rankPattern[p.Name] = p.Value.GetInt32();
            var alphaPattern = new Dictionary<string, double>(StringComparer.Ordinal);
            if (config.TryGetValue("alpha_pattern", out var ap) && ap.ValueKind == JsonValueKind.Object)
                foreach (var p in ap.EnumerateObject()) alphaPattern[p.Name] = p.Value.GetDouble();
            var rs = config.TryGetValue("use_rslora", out var rsv) && rsv.ValueKind == JsonValueKind.True;
            return new PeftConfig(r, alpha, rankPattern, alphaPattern, rs);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new LoraFormatException(path, $"'{DiffusersMetadataKey}' is not a readable LoraConfig: {e.Message}");
        }
    }

    /// <summary>
    /// PEFT's scaling for one module: with a LoraConfig, r and lora_alpha (or their rank_pattern / alpha_pattern
    /// entries) give lora_alpha / r (√r with rsLoRA). Without one, diffusers builds the config from the file:
    /// r = the most common rank, lora_alpha = the first module's rank, so uniform-rank files get scale 1.
    /// </summary>
    private static (double Scale, double? Alpha) PeftScale(string path, PeftConfig? config, string module, int rank, IReadOnlyList<int> ranks)
    {
        if (config is null)
        {
            double alpha = ranks[0];
            return (alpha / rank, alpha);
        }
        var r = PatternValue(config.RankPattern, module) ?? config.R
            ?? throw new LoraFormatException(path, $"'{DiffusersMetadataKey}' has no 'transformer.r'.");
        if (r != rank)
            throw new LoraFormatException(path, $"module 'transformer.{module}' has rank {rank} but its LoraConfig says r = {r}.");
        var a = PatternValue(config.AlphaPattern, module) ?? config.Alpha ?? r;
        return (config.UseRsLora ? a / Math.Sqrt(r) : a / r, a);
    }

    private static T? PatternValue<T>(IReadOnlyDictionary<string, T> pattern, string module) where T : struct
    {
        foreach (var (key, value) in pattern)
        {
            if (key == module) return value;
            try
            {
                if (Regex.IsMatch(module, $"^(.*\\.)?({key})$", RegexOptions.None, TimeSpan.FromSeconds(1))) return value;
            }
            catch (ArgumentException)
            {
                // not a valid regex: PEFT would fail too; only the exact match above counts
            }
        }
        return null;
    }

    /// <summary>Frees the factors.</summary>
    public void Dispose()
    {
        foreach (var m in _modules) m.Dispose();
        _modules.Clear();
    }
}
