using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// The decoder-only text models (LLaMA, Gemma, Gemma 2), as Hugging Face's <c>LlamaModel</c>, <c>GemmaModel</c> and
/// <c>Gemma2Model</c>: token embedding (× sqrt(hidden) for Gemma), a stack of causal decoder layers and a final RMSNorm,
/// built from a <see cref="DecoderTextConfig"/> (<see cref="LlamaConfig"/>, <see cref="GemmaConfig"/>, …). Module names
/// equal the Hugging Face checkpoint keys without the <c>model.</c> prefix (<c>embed_tokens.weight</c>,
/// <c>layers.N.self_attn.q_proj.weight</c>, <c>norm.weight</c>, …), so the text_encoder folder of a diffusers
/// repository loads strictly with <c>LoadSafetensors</c>; for a <c>*ForCausalLM</c> checkpoint pass
/// <see cref="TextEncoderCheckpoints.CausalLmKeyMap"/>. Create it on <c>new Device("meta")</c> to size it without memory.
/// <para>Lumina-Next feeds Gemma's <c>HiddenState(ids, mask, -2)</c> to its DiT; Lumina-T2I LLaMA's
/// <c>LastHiddenState</c>, computed without an attention mask.</para>
/// </summary>
public sealed class DecoderTextModel : nn.Module<Tensor, Tensor?, TextEncoderOutput>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly TokenEmbedding embed_tokens;
    private readonly ModuleList<DecoderLayer> layers;
    private readonly DecoderRmsNorm norm;
#pragma warning restore IDE1006
    private readonly DecoderSpec _spec;

    /// <summary>Builds the model with default-initialised weights; load a checkpoint next.</summary>
    /// <param name="config">The configuration (see the presets on <see cref="GemmaConfig"/> and <see cref="LlamaConfig"/>).</param>
    /// <param name="device">Where to create the parameters; null = CPU.</param>
    /// <param name="dtype">Parameter dtype; null = fp32.</param>
    public DecoderTextModel(DecoderTextConfig config, Device? device = null, ScalarType? dtype = null)
        : base((config ?? throw new ArgumentNullException(nameof(config))).Architecture)
    {
        Config = config;
        var spec = config.ToSpec();
        spec.Validate();
        _spec = spec;
        Device = device ?? torch.CPU;
        DType = dtype ?? ScalarType.Float32;
        if (!torch.is_floating_point(torch.empty(0, dtype: DType, device: torch.META)))
        {
            throw new ArgumentException($"The model dtype must be a floating-point type, got {DType}.", nameof(dtype));
        }

        embed_tokens = ModuleFactory.Embedding(spec.Config.VocabSize, spec.Config.HiddenSize, Device, DType);
        layers = new ModuleList<DecoderLayer>();
        for (int i = 0; i < spec.Config.NumHiddenLayers; i++)
        {
            layers.Add(new DecoderLayer(spec, Device, DType));
        }

        norm = new DecoderRmsNorm(spec.Config.HiddenSize, spec.Config.RmsNormEps, spec.NormUnitOffset, Device, DType);
        RegisterComponents();
    }

    /// <summary>
    /// Builds the model from a Hugging Face model folder: <c>config.json</c> (its <c>model_type</c>, llama, gemma or
    /// gemma2, picks the family) plus <c>model.safetensors</c> or sharded <c>model-0000x-of-0000y.safetensors</c> with
    /// their index, loaded strictly (a <c>*ForCausalLM</c> checkpoint's <c>model.</c> prefix is stripped and its LM head
    /// skipped).
    /// </summary>
    /// <param name="folder">The folder, e.g. the <c>text_encoder</c> folder of a diffusers repository.</param>
    /// <param name="device">Where to create the parameters; null = CPU.</param>
    /// <param name="dtype">Parameter dtype; null = fp32.</param>
    /// <exception cref="Lumina.Tensors.CheckpointMismatchException">The weights do not fit the configuration.</exception>
    public static DecoderTextModel FromPretrained(string folder, Device? device = null, ScalarType? dtype = null) =>
        FromPretrained(folder, DecoderTextConfig.FromFile, device, dtype);

    /// <summary>As <see cref="FromPretrained(string, Device?, ScalarType?)"/>, with the config read as one family.</summary>
    internal static DecoderTextModel FromPretrained(string folder, Func<string, DecoderTextConfig> readConfig, Device? device, ScalarType? dtype) =>
        PretrainedWeights.Create(folder, f =>
        {
            var config = readConfig(f);
            TextEncoderHeaderCheck.Decoder(f, config.NumHiddenLayers, config.HiddenSize, config.VocabSize);
            return new DecoderTextModel(config, device, dtype);
        }, (m, f) => PretrainedWeights.LoadDecoder(m, f));

    /// <summary>The configuration the model was built from.</summary>
    public DecoderTextConfig Config { get; }

    /// <summary>The device the parameters were created on.</summary>
    public Device Device { get; }

    /// <summary>The parameter dtype (fp32 unless chosen otherwise).</summary>
    public ScalarType DType { get; }

    /// <summary>Number of decoder layers.</summary>
    public int NumLayers => _spec.Config.NumHiddenLayers;

    /// <summary>Width of the hidden states (the caption feature size).</summary>
    public int HiddenSize => _spec.Config.HiddenSize;

    /// <summary>Size of the token embedding table.</summary>
    public int VocabSize => _spec.Config.VocabSize;

    /// <summary>Runs the model with every hidden state kept (Hugging Face <c>output_hidden_states=True</c>).</summary>
    /// <param name="inputIds">Token ids <c>[batch, tokens]</c> (int64 or int32).</param>
    /// <param name="attentionMask">Optional <c>[batch, tokens]</c> mask, nonzero for real tokens.</param>
    public override TextEncoderOutput forward(Tensor inputIds, Tensor? attentionMask) => Forward(inputIds, attentionMask, outputHiddenStates: true);

    /// <summary>Runs the model.</summary>
    /// <param name="inputIds">Token ids <c>[batch, tokens]</c> (int64 or int32).</param>
    /// <param name="attentionMask">
    /// Optional <c>[batch, tokens]</c> mask, nonzero for real tokens. Without it every token attends to every earlier
    /// token, as upstream does when no mask is passed.
    /// </param>
    /// <param name="outputHiddenStates">Whether to keep every hidden state (see <see cref="TextEncoderOutput"/>).</param>
    /// <param name="cancellationToken">Checked between layers.</param>
    public TextEncoderOutput Forward(Tensor inputIds, Tensor? attentionMask = null, bool outputHiddenStates = false, CancellationToken cancellationToken = default)
    {
        var (last, all) = Run(inputIds, attentionMask, NumLayers, applyFinalNorm: true, outputHiddenStates, cancellationToken);
        return new TextEncoderOutput(last, all);
    }

    /// <summary>
    /// Returns one entry of the hidden-state list, running only the layers it needs. <c>index = -2</c> gives the
    /// penultimate layer's output (what Lumina-Next uses) without running the last layer.
    /// </summary>
    /// <param name="inputIds">Token ids <c>[batch, tokens]</c>.</param>
    /// <param name="attentionMask">Optional <c>[batch, tokens]</c> mask, nonzero for real tokens.</param>
    /// <param name="index">Index into the <c>NumLayers + 1</c> hidden states; negative counts from the end.</param>
    /// <param name="cancellationToken">Checked between layers.</param>
    public Tensor HiddenState(Tensor inputIds, Tensor? attentionMask, int index, CancellationToken cancellationToken = default)
    {
        int count = NumLayers + 1;
        int i = index < 0 ? count + index : index;
        if (i < 0 || i >= count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"Index {index} is outside the {count} hidden states of this model.");
        }

        var (last, _) = Run(inputIds, attentionMask, Math.Min(i, NumLayers), applyFinalNorm: i == NumLayers, outputHiddenStates: false, cancellationToken);
        return last;
    }

    private (Tensor Last, IReadOnlyList<Tensor> All) Run(
        Tensor inputIds, Tensor? attentionMask, int layerCount, bool applyFinalNorm, bool outputHiddenStates, CancellationToken cancellationToken)
    {
        TextModelInputs.Validate(inputIds, attentionMask, _spec.Config.VocabSize);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        long b = inputIds.shape[0], l = inputIds.shape[1];
        var ids = inputIds.to(ScalarType.Int64, Device);

        var h = embed_tokens.forward(ids);
        if (_spec.ScaleEmbeddings)
        {
            h = h * torch.tensor(Math.Sqrt(_spec.Config.HiddenSize), dtype: DType, device: Device);
        }

        var all = new List<Tensor>();
        if (outputHiddenStates)
        {
            all.Add(h);
        }

        var (cos, sin) = RotaryTable.Create(l, _spec.Config.HeadWidth, _spec.Config.RopeTheta, _spec.RopeLinearFactor, DType, Device);
        var fullMask = AdditiveMask(b, l, attentionMask, window: null);
        var slidingMask = _spec.SlidingWindow is { } w ? AdditiveMask(b, l, attentionMask, w) : fullMask;

        for (int i = 0; i < layerCount; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            h = layers[i].forward(h, cos, sin, _spec.IsSliding(i) ? slidingMask : fullMask);
            if (outputHiddenStates && i < layerCount - 1)
            {
                all.Add(h);
            }
        }

        if (applyFinalNorm)
        {
            h = norm.forward(h);
        }

        if (outputHiddenStates)
        {
            all.Add(h);
        }

        foreach (var t in all.Append(h).Distinct())
        {
            t.MoveToOuterDisposeScope();
        }

        return (h, all);
    }

    // Additive mask [B, 1, L, L]: 0 where query q may attend key k (k ≤ q, k not padding, q − k < window), else the
    // dtype's minimum, as upstream builds it for eager attention.
    private Tensor AdditiveMask(long b, long l, Tensor? attentionMask, int? window)
    {
        using var scope = torch.NewDisposeScope();
        var q = torch.arange(l, dtype: ScalarType.Int64, device: Device).unsqueeze(1);
        var k = torch.arange(l, dtype: ScalarType.Int64, device: Device).unsqueeze(0);
        var allowed = k.le(q);
        if (window is { } w)
        {
            allowed = allowed.logical_and((q - k).lt(w));
        }

        var allowed4 = allowed.view(1, 1, l, l).expand(b, 1, l, l);
        if (attentionMask is not null)
        {
            allowed4 = allowed4.logical_and(attentionMask.to(Device).ne(0).view(b, 1, 1, l));
        }

        var mask = torch.zeros(new long[] { b, 1, l, l }, dtype: DType, device: Device)
            .masked_fill(allowed4.logical_not(), torch.finfo(DType).min);
        return mask.MoveToOuterDisposeScope();
    }
}
