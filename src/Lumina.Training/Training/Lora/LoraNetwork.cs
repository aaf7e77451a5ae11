using System.Globalization;
using Lumina.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Training.Lora;

/// <summary>
/// LoRA adapters attached to the attention and feed-forward linears of a model, trained while every base weight stays
/// frozen.
/// <para>
/// The adapters act on the <em>weights</em>, not on a wrapped forward: the Lumina attention fuses <c>wq</c>, <c>wk</c>
/// and <c>wv</c> into one matmul that reads the weights directly, so a forward hook would silently miss them. During a
/// training step (<see cref="BeginTrainingStep"/> … backward … <see cref="EndTrainingStep"/>) each target weight holds
/// W0 + (α/r)·B·A; after backward the weight's gradient G is pulled back to the adapters exactly
/// (∂L/∂B = (α/r)·G·Aᵀ, ∂L/∂A = (α/r)·Bᵀ·G, by autograd) and W0 is restored bit for bit. For inference,
/// <see cref="Merge"/> adds the update and <see cref="Unmerge"/> removes it.
/// </para>
/// Adapters are saved in the ComfyUI form (<c>diffusion_model.{module}.lora_A.weight</c>, <c>.lora_B.weight</c> and a
/// 0-dim <c>.alpha</c>; metadata <c>lora_rank</c>, <c>lora_alpha</c>, <c>lora_targets</c>), so the file applies to a model
/// through <c>Lumina.Adapters.LoraStack</c>, <c>TextToImagePipeline.LoadLora</c> or <c>lumina generate --lora</c> with the
/// scale alpha / rank the adapters were trained with. <see cref="Load"/> also reads the bare-key files earlier
/// versions wrote.
/// </summary>
public sealed class LoraNetwork : IDisposable
{
    private readonly List<LoraAdapter> _adapters;
    private readonly List<(Parameter Param, bool RequiresGrad)> _frozen = [];
    private Tensor[]? _saved;
    private bool _disposed;

    private LoraNetwork(nn.Module model, LoraOptions options, List<LoraAdapter> adapters)
    {
        Model = model;
        Options = options;
        _adapters = adapters;
    }

    /// <summary>The adapted model.</summary>
    public nn.Module Model { get; }

    /// <summary>Rank, alpha and targets.</summary>
    public LoraOptions Options { get; }

    /// <summary>The adapters in module order.</summary>
    internal IReadOnlyList<LoraAdapter> Adapters => _adapters;

    /// <summary>Whether the updates are currently added into the base weights.</summary>
    public bool IsMerged { get; private set; }

    /// <summary>
    /// Attaches adapters to every <see cref="Linear"/> of <paramref name="model"/> whose path ends with one of
    /// <see cref="LoraOptions.Targets"/>, and freezes all of the model's parameters (restored by <see cref="Dispose"/>).
    /// </summary>
    /// <exception cref="ArgumentException">No linear matches the targets.</exception>
    public static LoraNetwork Attach(nn.Module model, LoraOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new LoraOptions();
        options.Validate();
        using var generator = new Generator((ulong)options.Seed);
        var adapters = new List<LoraAdapter>();
        foreach (var (name, module) in model.named_modules())
        {
            if (module is not Linear linear) continue;
            if (!options.Targets.Any(t => name == t || name.EndsWith("." + t, StringComparison.Ordinal))) continue;
            adapters.Add(new LoraAdapter(name, linear, options.Rank, options.Alpha, generator));
        }
        if (adapters.Count == 0)
            throw new ArgumentException(
                $"No Linear layer of the model matches the LoRA targets [{string.Join(", ", options.Targets)}]; check the module names (named_modules()).",
                nameof(options));
        var network = new LoraNetwork(model, options, adapters);
        foreach (var (_, p) in model.named_parameters())
        {
            network._frozen.Add((p, p.requires_grad));
            p.requires_grad = false;
        }
        return network;
    }

    /// <summary>The trainable tensors with their file names (<c>{module}.lora_A.weight</c>, <c>{module}.lora_B.weight</c>).</summary>
    public IEnumerable<(string Name, Parameter Param)> NamedParameters()
    {
        foreach (var a in _adapters)
        {
            yield return ($"{a.Name}.lora_A.weight", a.A);
            yield return ($"{a.Name}.lora_B.weight", a.B);
        }
    }

    /// <summary>Number of trainable adapter values.</summary>
    public long ParameterCount => _adapters.Sum(a => a.A.numel() + a.B.numel());

    /// <summary>Adds (α/r)·B·A into every target weight.</summary>
    /// <exception cref="InvalidOperationException">Already merged, or inside a training step.</exception>
    public void Merge()
    {
        ThrowIfBusy();
        if (IsMerged) throw new InvalidOperationException("The LoRA updates are already merged; call Unmerge first.");
        ApplyDeltas(sign: 1);
        IsMerged = true;
    }

    /// <summary>Subtracts (α/r)·B·A from every target weight (the inverse of <see cref="Merge"/>, up to float rounding).</summary>
    /// <exception cref="InvalidOperationException">Not merged.</exception>
    public void Unmerge()
    {
        ThrowIfBusy();
        if (!IsMerged) throw new InvalidOperationException("The LoRA updates are not merged.");
        ApplyDeltas(sign: -1);
        IsMerged = false;
    }

    /// <summary>Adds (sign 1) or subtracts (sign −1) every adapter's (α/r)·B·A to or from its target weight.</summary>
    private void ApplyDeltas(int sign)
    {
        using var noGrad = no_grad();
        foreach (var a in _adapters)
        {
            using var d = a.Delta();
            if (sign > 0) a.Target.weight!.add_(d);
            else a.Target.weight!.sub_(d);
        }
    }

    /// <summary>
    /// Starts a training forward: each target weight becomes W0 + (α/r)·B·A and records its gradient. Always pair with
    /// <see cref="EndTrainingStep"/> (after backward, or on failure) to restore W0.
    /// </summary>
    public void BeginTrainingStep()
    {
        ThrowIfBusy();
        if (IsMerged) throw new InvalidOperationException("Unmerge the LoRA updates before training them.");
        using var noGrad = no_grad();
        _saved = new Tensor[_adapters.Count];
        for (var i = 0; i < _adapters.Count; i++)
        {
            var w = _adapters[i].Target.weight!;
            _saved[i] = w.detach().clone();
            using var d = _adapters[i].Delta();
            w.add_(d);
            w.requires_grad = true;
        }
    }

    /// <summary>
    /// Ends a training step: pulls each target weight's gradient back onto A and B (accumulating into their
    /// <c>grad</c>), then restores the base weights exactly and clears their gradients.
    /// </summary>
    public void EndTrainingStep()
    {
        if (_saved is null) throw new InvalidOperationException("No training step is in progress; call BeginTrainingStep first.");
        try
        {
            for (var i = 0; i < _adapters.Count; i++)
            {
                var w = _adapters[i].Target.weight!;
                var g = w.grad;
                if (g is null) continue;
                using var scope = NewDisposeScope();
                var delta = _adapters[i].Delta();
                delta.backward([g]);
            }
        }
        finally
        {
            using var noGrad = no_grad();
            for (var i = 0; i < _adapters.Count; i++)
            {
                var w = _adapters[i].Target.weight!;
                var g = w.grad;
                if (g is not null) { g.Dispose(); w.grad = null; }
                w.requires_grad = false;
                w.copy_(_saved[i]);
                _saved[i].Dispose();
            }
            _saved = null;
        }
    }

    /// <summary>The key prefix of the ComfyUI form the adapters are saved in.</summary>
    public const string FilePrefix = "diffusion_model.";

    /// <summary>Writes the adapters (and rank/alpha/targets metadata) to a safetensors file in the ComfyUI form.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
        => Save(path, NamedParameters().Select(p => new KeyValuePair<string, Tensor>(p.Name, p.Param)), metadata);

    /// <summary>The file keys an adapter tensor may be stored under: the ComfyUI form first, then the bare name.</summary>
    internal static IEnumerable<string> FileKeys(string name)
    {
        yield return FilePrefix + name;
        yield return name;
    }

    internal void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            ["lora_rank"] = Options.Rank.ToString(CultureInfo.InvariantCulture),
            ["lora_alpha"] = Options.Alpha.ToString("R", CultureInfo.InvariantCulture),
            ["lora_targets"] = string.Join(",", Options.Targets),
        };
        meta.TryAdd("format", "pt");
        var alphas = _adapters.Select(a => new KeyValuePair<string, Tensor>($"{FilePrefix}{a.Name}.alpha", tensor((float)a.Alpha))).ToList();
        try
        {
            SafetensorsWriter.Write(path,
                tensors.Select(t => new KeyValuePair<string, Tensor>(FilePrefix + t.Key, t.Value)).Concat(alphas), meta);
        }
        finally
        {
            foreach (var (_, a) in alphas) a.Dispose();
        }
    }

    /// <summary>
    /// Loads adapters written by <see cref="Save(string, IReadOnlyDictionary{string, string}?)"/> (or by earlier
    /// versions, with bare keys) into this network. Strict: every adapter must be present with the same shapes, no
    /// extra keys, and the same rank and alpha.
    /// </summary>
    /// <exception cref="InvalidDataException">The file does not match this network.</exception>
    public void Load(string path)
    {
        ThrowIfBusy();
        if (IsMerged) throw new InvalidOperationException("Unmerge before loading other adapters.");
        using var file = SafetensorsFile.Open(path);
        if (file.Metadata.TryGetValue("lora_rank", out var r) && r != Options.Rank.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"'{path}' holds rank-{r} adapters but this network has rank {Options.Rank}.");
        if (file.Metadata.TryGetValue("lora_alpha", out var al) && double.Parse(al, CultureInfo.InvariantCulture) != Options.Alpha)
            throw new InvalidDataException($"'{path}' was trained with alpha {al} but this network has alpha {Options.Alpha}.");
        var expected = NamedParameters().ToDictionary(p => p.Name, p => p.Param, StringComparer.Ordinal);
        var keyOf = expected.Keys.ToDictionary(k => k, k => FileKeys(k).FirstOrDefault(f => file.TryGetInfo(f, out _)), StringComparer.Ordinal);
        var alphaKeys = _adapters.Select(a => $"{FilePrefix}{a.Name}.alpha").ToHashSet(StringComparer.Ordinal);
        var known = keyOf.Values.Where(v => v is not null).Concat(alphaKeys).ToHashSet(StringComparer.Ordinal);
        var missing = keyOf.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList();
        var unexpected = file.Tensors.Select(t => t.Name).Where(n => !known.Contains(n)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidDataException(
                $"'{path}' does not match these adapters: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}].");
        using var noGrad = no_grad();
        foreach (var a in _adapters)
        {
            var alphaKey = $"{FilePrefix}{a.Name}.alpha";
            if (!file.TryGetInfo(alphaKey, out _)) continue;
            using var stored = file.Read(alphaKey, ScalarType.Float64);
            if (stored.numel() != 1 || stored.item<double>() != (double)(float)a.Alpha)
                throw new InvalidDataException($"'{alphaKey}' in '{path}' does not hold this network's alpha {a.Alpha}.");
        }
        foreach (var (name, p) in expected)
        {
            using var src = file.Read(keyOf[name]!, p.dtype, p.device);
            if (!src.shape.SequenceEqual(p.shape))
                throw new InvalidDataException($"'{name}' in '{path}' is [{string.Join(", ", src.shape)}] but the adapter is [{string.Join(", ", p.shape)}].");
            p.copy_(src);
        }
    }

    private void ThrowIfBusy()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_saved is not null) throw new InvalidOperationException("A LoRA training step is in progress; call EndTrainingStep first.");
    }

    /// <summary>Restores the base parameters' <c>requires_grad</c> flags and releases the adapters (a merged update stays in the weights).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (_saved is not null) EndTrainingStep();
        foreach (var (p, rg) in _frozen) p.requires_grad = rg;
        foreach (var a in _adapters) a.Dispose();
        _disposed = true;
    }
}
