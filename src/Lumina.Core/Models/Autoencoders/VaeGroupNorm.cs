using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// GroupNorm with an affine transform (parameters <c>weight</c>, <c>bias</c>, as <c>torch.nn.GroupNorm</c>) that a
/// tiled VAE pass can switch to whole-image statistics (see <see cref="TileStatistics"/>), so tiles do not shift in
/// colour or contrast against each other. Outside a tiled pass it is plain GroupNorm.
/// </summary>
internal sealed class VaeGroupNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Parameter weight;
    private readonly Parameter bias;
#pragma warning restore IDE1006
    private readonly int _groups;
    private readonly double _eps;

    /// <summary>Builds the layer with weight 1 and bias 0.</summary>
    /// <param name="groups">Groups the channels are split into.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="eps">Added to the variance.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public VaeGroupNorm(int groups, int channels, double eps = 1e-6, Device? device = null, ScalarType? dtype = null) : base(nameof(VaeGroupNorm))
    {
        if (groups <= 0 || channels % groups != 0)
            throw new ArgumentException($"{channels} channels do not split into {groups} groups.", nameof(groups));
        _groups = groups;
        _eps = eps;
        weight = new Parameter(ones(channels, dtype: dtype, device: device));
        bias = new Parameter(zeros(channels, dtype: dtype, device: device));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var statistics = TileStatistics.Current;
        if (statistics is null || x.dim() != 4)
            return nn.functional.group_norm(x, _groups, weight, bias, _eps);
        using var scope = NewDisposeScope();
        var normed = statistics.Normalize(x, _groups, _eps);
        var shape = new long[] { 1, -1, 1, 1 };
        return normed.mul_(weight.view(shape)).add_(bias.view(shape)).MoveToOuterDisposeScope();
    }
}
