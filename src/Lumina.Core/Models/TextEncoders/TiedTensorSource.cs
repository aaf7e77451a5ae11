using Lumina.Tensors;
using TorchSharp;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// A tensor source that also offers one stored tensor under a second name, for checkpoints that save a tied weight
/// (T5's <c>shared.weight</c> = <c>encoder.embed_tokens.weight</c>) only once. Lets the strict loader see both names.
/// Does not own the wrapped source.
/// </summary>
internal sealed class TiedTensorSource : ITensorSource
{
    private readonly ITensorSource _inner;
    private readonly string _alias;
    private readonly string _target;

    public TiedTensorSource(ITensorSource inner, string alias, string target)
    {
        _inner = inner;
        _alias = alias;
        _target = target;
        if (!inner.TryGetInfo(target, out var info))
        {
            throw new ArgumentException($"'{target}' is not in {inner.SourcePath}.", nameof(target));
        }

        Tensors = inner.Tensors.Append(info with { Name = alias }).ToList();
    }

    public string SourcePath => _inner.SourcePath;

    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    public bool TryGetInfo(string name, out SafetensorsTensorInfo info)
    {
        if (name == _alias && _inner.TryGetInfo(_target, out var target))
        {
            info = target with { Name = _alias };
            return true;
        }

        return _inner.TryGetInfo(name, out info);
    }

    public torch.Tensor Read(string name, torch.ScalarType? dtype = null, torch.Device? device = null) =>
        _inner.Read(name == _alias ? _target : name, dtype, device);

    public void Dispose()
    {
        // The wrapped source belongs to the caller.
    }
}
