using Lumina.Tensors;
using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// The T5 encoder, as Hugging Face's <c>T5EncoderModel</c>: relative-position-bucket attention, T5 layer norms and a
/// (gated-)GELU or ReLU feed-forward. Lumina-T2Music feeds the <c>LastHiddenState</c> of FLAN-T5-large's encoder to its
/// DiT.
/// </summary>
/// <remarks>
/// Parameters carry the checkpoint names (<c>shared.weight</c>, <c>encoder.embed_tokens.weight</c> — the same tied
/// tensor —, <c>encoder.block.N.layer.0.SelfAttention.q.weight</c>, …). For a full encoder-decoder checkpoint such as
/// google/flan-t5-large use <see cref="LoadCheckpoint"/>, which skips the decoder and accepts a file that stores the
/// tied embedding under only one of its two names.
/// </remarks>
public sealed class T5EncoderModel : nn.Module<Tensor, Tensor?, TextEncoderOutput>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly TokenEmbedding shared;
    private readonly T5Stack encoder;
#pragma warning restore IDE1006

    /// <summary>Builds the encoder with default-initialised weights; load a checkpoint next.</summary>
    /// <param name="config">The configuration (see <see cref="T5Config.FlanT5LargeEncoder"/>).</param>
    /// <param name="device">Where to create the parameters; null = CPU.</param>
    /// <param name="dtype">Parameter dtype; null = fp32.</param>
    public T5EncoderModel(T5Config config, Device? device = null, ScalarType? dtype = null)
        : base(nameof(T5EncoderModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Device = device ?? torch.CPU;
        DType = dtype ?? ScalarType.Float32;
        shared = ModuleFactory.Embedding(config.VocabSize, config.DModel, Device, DType);
        encoder = new T5Stack(config, shared, Device, DType);
        RegisterComponents();
    }

    /// <summary>
    /// Builds the encoder from a Hugging Face model folder (<c>config.json</c> plus weights, single or sharded) with
    /// <see cref="LoadCheckpoint"/>, so full encoder-decoder checkpoints such as google/flan-t5-large work.
    /// </summary>
    /// <param name="folder">The model folder.</param>
    /// <param name="device">Where to create the parameters; null = CPU.</param>
    /// <param name="dtype">Parameter dtype; null = fp32.</param>
    public static T5EncoderModel FromPretrained(string folder, Device? device = null, ScalarType? dtype = null) =>
        PretrainedWeights.Create(folder, f =>
        {
            var config = T5Config.FromFile(f);
            TextEncoderHeaderCheck.T5(f, config.NumLayers, config.DModel, config.VocabSize);
            return new T5EncoderModel(config, device, dtype);
        }, (m, f) => m.LoadCheckpoint(f));

    /// <summary>The configuration the model was built from.</summary>
    public T5Config Config { get; }

    /// <summary>The device the parameters were created on.</summary>
    public Device Device { get; }

    /// <summary>The parameter dtype.</summary>
    public ScalarType DType { get; }

    /// <summary>Width of the hidden states (the caption feature size).</summary>
    public int HiddenSize => Config.DModel;

    /// <summary>
    /// Loads a T5 checkpoint (single file, sharded index, or folder): the decoder and LM head of a full checkpoint are
    /// skipped, and the tied embedding may be stored as <c>shared.weight</c>, <c>encoder.embed_tokens.weight</c> or both.
    /// Every other encoder key must be present and match in shape.
    /// </summary>
    /// <param name="path">The checkpoint path.</param>
    /// <exception cref="CheckpointMismatchException">An encoder key is missing, unexpected or misshapen.</exception>
    public CheckpointLoadReport LoadCheckpoint(string path)
    {
        const string Shared = "shared.weight", Encoder = "encoder.embed_tokens.weight";
        using var source = SafetensorsCheckpoint.Open(path);
        bool hasShared = source.TryGetInfo(Shared, out _);
        bool hasEncoder = source.TryGetInfo(Encoder, out _);
        var options = new CheckpointLoadOptions { KeyMap = TextEncoderCheckpoints.T5EncoderKeyMap };
        if (hasShared == hasEncoder)
        {
            return this.LoadTensors(source, options);
        }

        // The tied table is stored once: offer it under its other name too, then load strictly.
        using var tied = hasShared ? new TiedTensorSource(source, Encoder, Shared) : new TiedTensorSource(source, Shared, Encoder);
        return this.LoadTensors(tied, options);
    }

    /// <summary>Runs the encoder with every hidden state kept.</summary>
    /// <param name="inputIds">Token ids <c>[batch, tokens]</c>.</param>
    /// <param name="attentionMask">Optional <c>[batch, tokens]</c> mask, nonzero for real tokens.</param>
    public override TextEncoderOutput forward(Tensor inputIds, Tensor? attentionMask) => Forward(inputIds, attentionMask, outputHiddenStates: true);

    /// <summary>Runs the encoder.</summary>
    /// <param name="inputIds">Token ids <c>[batch, tokens]</c> (int64 or int32).</param>
    /// <param name="attentionMask">
    /// Optional <c>[batch, tokens]</c> mask, nonzero for real tokens; without it padding is attended like any token, as
    /// upstream does when no mask is passed (Lumina-T2Music passes none).
    /// </param>
    /// <param name="outputHiddenStates">Whether to keep every hidden state (embeddings, each block, final-normed).</param>
    /// <param name="cancellationToken">Checked between blocks.</param>
    public TextEncoderOutput Forward(Tensor inputIds, Tensor? attentionMask = null, bool outputHiddenStates = false, CancellationToken cancellationToken = default)
    {
        TextModelInputs.Validate(inputIds, attentionMask, Config.VocabSize);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        long b = inputIds.shape[0], l = inputIds.shape[1];
        var h = encoder.Embed(inputIds.to(ScalarType.Int64, Device));
        var bias = encoder.PositionBias(l, Device);
        if (attentionMask is not null)
        {
            var keep = attentionMask.to(Device).to(DType).view(b, 1, 1, l);
            bias = bias + (1.0 - keep) * torch.finfo(DType).min;
        }

        var all = new List<Tensor>();
        for (int i = 0; i < encoder.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (outputHiddenStates)
            {
                all.Add(h);
            }

            h = encoder.Block(i, h, bias);
        }

        h = encoder.FinalNorm(h);
        if (outputHiddenStates)
        {
            all.Add(h);
        }

        foreach (var t in all.Append(h).Distinct())
        {
            t.MoveToOuterDisposeScope();
        }

        return new TextEncoderOutput(h, all);
    }
}
