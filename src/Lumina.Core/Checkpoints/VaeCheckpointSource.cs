using Lumina.Tensors;
using TorchSharp;

namespace Lumina.Checkpoints;

/// <summary>
/// Presents a VAE checkpoint under the diffusers key names of <see cref="Models.Autoencoders.AutoencoderKL"/>, so the
/// strict loader can read it: a checkpoint in the original LDM / FLUX layout (FLUX's and ComfyUI's
/// <c>ae.safetensors</c>) is renamed by <see cref="VaeKeyMap.FromLdm"/>, diffusers keys pass through, and a
/// <see cref="VaeKeyMap.SingleFilePrefixes"/> prefix (the <c>first_stage_model.*</c> part of a single-file checkpoint)
/// is stripped. The mid-block attention
/// projections, stored as 1×1 convolutions <c>[C, C, 1, 1]</c>, are presented as linear weights <c>[C, C]</c> (the same
/// bytes). Tensors outside the VAE (another prefix, such as <c>model.diffusion_model.</c>) are left out when
/// <c>vaeOnly</c> is set.
/// </summary>
internal sealed class VaeCheckpointSource : ITensorSource
{
    private readonly ITensorSource _inner;
    private readonly bool _ownsInner;
    private readonly Dictionary<string, (string Stored, SafetensorsTensorInfo Info, bool Squeeze)> _byName = new(StringComparer.Ordinal);
    private readonly List<SafetensorsTensorInfo> _tensors = [];

    /// <summary>Wraps a source.</summary>
    /// <param name="inner">The checkpoint in LDM or diffusers layout (keys optionally behind <see cref="VaeKeyMap.SingleFilePrefixes"/>).</param>
    /// <param name="blocks">Resolution levels of the VAE (<c>block_out_channels</c> length; 4 for SDXL and FLUX).</param>
    /// <param name="vaeOnly">Keep only <c>encoder.*</c>, <c>decoder.*</c>, <c>quant_conv.*</c> and <c>post_quant_conv.*</c>
    /// tensors (after stripping the prefix), so a single file that also holds a diffusion model can be read for its VAE.</param>
    /// <param name="ownsInner">Whether disposing this disposes <paramref name="inner"/>.</param>
    /// <exception cref="SafetensorsException">A 1×1 attention projection is not shaped [C, C, 1, 1], or two stored keys
    /// map to the same name.</exception>
    public VaeCheckpointSource(ITensorSource inner, int blocks, bool vaeOnly = false, bool ownsInner = true)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        _ownsInner = ownsInner;
        foreach (var info in inner.Tensors)
        {
            var stripped = VaeKeyMap.StripPrefix(info.Name);
            if (vaeOnly && !IsVaeKey(stripped)) continue;
            var name = VaeKeyMap.FromLdm(info.Name, blocks);
            var squeeze = VaeKeyMap.IsConvAttentionProjection(stripped);
            var shape = info.Shape;
            if (squeeze)
            {
                if (shape.Count != 4 || shape[2] != 1 || shape[3] != 1)
                    throw new SafetensorsException(inner.SourcePath, $"'{info.Name}' is shaped [{string.Join(", ", shape)}]; an LDM attention projection is a 1×1 convolution [C, C, 1, 1].");
                shape = [shape[0], shape[1]];
            }
            var presented = info with { Name = name, Shape = shape };
            if (!_byName.TryAdd(name, (info.Name, presented, squeeze)))
                throw new SafetensorsException(inner.SourcePath, $"'{info.Name}' and '{_byName[name].Stored}' both map to the VAE key '{name}'.");
            _tensors.Add(presented);
        }
    }

    /// <summary>Opens a safetensors file (or index, or folder) holding a VAE in either layout.</summary>
    /// <param name="path">The checkpoint.</param>
    /// <param name="blocks">Resolution levels of the VAE.</param>
    /// <param name="vaeOnly">See the constructor.</param>
    public static VaeCheckpointSource Open(string path, int blocks, bool vaeOnly = false)
    {
        var inner = SafetensorsCheckpoint.Open(path);
        try
        {
            return new VaeCheckpointSource(inner, blocks, vaeOnly);
        }
        catch
        {
            inner.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public string SourcePath => _inner.SourcePath;

    /// <inheritdoc />
    public IReadOnlyList<SafetensorsTensorInfo> Tensors => _tensors;

    /// <inheritdoc />
    public bool TryGetInfo(string name, out SafetensorsTensorInfo info)
    {
        if (_byName.TryGetValue(name, out var entry))
        {
            info = entry.Info;
            return true;
        }
        info = null!;
        return false;
    }

    /// <inheritdoc />
    public torch.Tensor Read(string name, torch.ScalarType? dtype = null, torch.Device? device = null)
    {
        if (!_byName.TryGetValue(name, out var entry))
            throw new KeyNotFoundException($"'{name}' is not in {SourcePath} (read as a VAE checkpoint).");
        var value = _inner.Read(entry.Stored, dtype, device);
        if (!entry.Squeeze) return value;
        using (value) return value.reshape(entry.Info.ShapeArray()).contiguous();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsInner) _inner.Dispose();
    }

    private static bool IsVaeKey(string key) =>
        key.StartsWith("encoder.", StringComparison.Ordinal) || key.StartsWith("decoder.", StringComparison.Ordinal) ||
        key.StartsWith("quant_conv.", StringComparison.Ordinal) || key.StartsWith("post_quant_conv.", StringComparison.Ordinal);
}
