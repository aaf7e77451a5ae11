using Lumina.Tensors;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Compares a text encoder's <c>config.json</c> with its checkpoint's header (tensor names and shapes, no data) before
/// the model is built, as <see cref="Checkpoints.NextDiTCheckpoint.CheckHeader"/> does for the transformer: a config that would
/// allocate far more than the checkpoint holds (<c>num_hidden_layers: 100000</c>, <c>hidden_size: 1e9</c>) or cannot be
/// built at all (<c>-128</c>) is refused naming the file and the field, without allocating.
/// </summary>
internal static class TextEncoderHeaderCheck
{
    /// <summary>A decoder (Gemma, Gemma 2, LLaMA): <c>[model.]layers.N.</c> blocks and <c>[model.]embed_tokens.weight</c> [vocab, hidden].</summary>
    public static void Decoder(string folder, int layers, int hiddenSize, int vocabSize) =>
        Check(folder, ["layers.", "model.layers."], ["embed_tokens.weight", "model.embed_tokens.weight"],
            ("num_hidden_layers", layers), ("hidden_size", hiddenSize), ("vocab_size", vocabSize));

    /// <summary>A T5 encoder: <c>encoder.block.N.</c> blocks and <c>shared.weight</c> (or <c>encoder.embed_tokens.weight</c>) [vocab, d_model].</summary>
    public static void T5(string folder, int layers, int dModel, int vocabSize) =>
        Check(folder, ["encoder.block."], ["shared.weight", "encoder.embed_tokens.weight"],
            ("num_layers", layers), ("d_model", dModel), ("vocab_size", vocabSize));

    private static void Check(string folder, string[] blockPrefixes, string[] embeddingNames,
        (string Field, int Value) layers, (string Field, int Value) width, (string Field, int Value) vocab)
    {
        var config = Path.Combine(folder, "config.json");
        foreach (var (field, value) in new[] { layers, width, vocab })
        {
            if (value <= 0)
                throw new LuminaException($"{config}: {field} is {value}; it must be positive (this file is damaged, or not this model's config).");
        }

        using var checkpoint = SafetensorsCheckpoint.Open(folder);
        var blocks = Checkpoints.BlockCount.Of(checkpoint.Tensors.Select(t => t.Name), blockPrefixes);
        var embedding = checkpoint.Tensors.FirstOrDefault(t => embeddingNames.Contains(t.Name, StringComparer.Ordinal));
        if (blocks != layers.Value)
            throw new LuminaException($"{config}: {layers.Field} is {layers.Value}, but the checkpoint in '{folder}' holds {blocks} layers; fix {layers.Field} or use the checkpoint this config belongs to.");
        if (embedding is { Shape.Count: 2 } e)
        {
            if (e.Shape[1] != width.Value)
                throw new LuminaException($"{config}: {width.Field} is {width.Value}, but the checkpoint in '{folder}' has {e.Name} of width {e.Shape[1]}; fix {width.Field}.");
            if (e.Shape[0] != vocab.Value)
                throw new LuminaException($"{config}: {vocab.Field} is {vocab.Value}, but the checkpoint in '{folder}' has {e.Name} with {e.Shape[0]} rows; fix {vocab.Field}.");
        }
    }
}
