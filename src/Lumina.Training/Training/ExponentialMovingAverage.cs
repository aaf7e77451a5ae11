using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Training;

/// <summary>
/// An exponential moving average of named parameters (upstream <c>update_ema</c>: ema ← decay·ema + (1 − decay)·p,
/// decay 0.9999, started as a copy of the model).
/// </summary>
internal sealed class ExponentialMovingAverage : IDisposable
{
    private readonly Dictionary<string, Tensor> _shadow = new(StringComparer.Ordinal);

    /// <summary>Starts the average as a copy of <paramref name="parameters"/>.</summary>
    public ExponentialMovingAverage(IEnumerable<(string Name, Tensor Value)> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        using var noGrad = no_grad();
        foreach (var (name, value) in parameters) _shadow.Add(name, value.detach().clone());
    }

    /// <summary>The averaged tensors by name.</summary>
    public IReadOnlyDictionary<string, Tensor> Shadow => _shadow;

    /// <summary>Moves the average towards <paramref name="parameters"/> with the given decay.</summary>
    public void Update(IEnumerable<(string Name, Tensor Value)> parameters, double decay)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (decay is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(decay), decay, "The EMA decay must be in [0, 1].");
        using var noGrad = no_grad();
        foreach (var (name, value) in parameters)
        {
            if (!_shadow.TryGetValue(name, out var ema)) throw new ArgumentException($"'{name}' is not tracked by this EMA.", nameof(parameters));
            ema.mul_(decay).add_(value.detach(), 1 - decay);
        }
    }

    /// <summary>Overwrites the average from stored tensors (resume); every tracked name must be present.</summary>
    public void Load(Func<string, Tensor?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        using var noGrad = no_grad();
        foreach (var (name, ema) in _shadow)
        {
            using var src = read(name) ?? throw new InvalidDataException($"The EMA checkpoint has no '{name}'.");
            if (!src.shape.SequenceEqual(ema.shape))
                throw new InvalidDataException($"EMA tensor '{name}' is [{string.Join(", ", src.shape)}] but the parameter is [{string.Join(", ", ema.shape)}].");
            ema.copy_(src);
        }
    }

    /// <summary>Releases the averaged tensors.</summary>
    public void Dispose()
    {
        foreach (var t in _shadow.Values) t.Dispose();
        _shadow.Clear();
    }
}
