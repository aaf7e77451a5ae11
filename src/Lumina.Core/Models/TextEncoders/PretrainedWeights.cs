using Lumina.Tensors;
using Lumina.Nn;
using TorchSharp;

namespace Lumina.Models.TextEncoders;

/// <summary>Loads Hugging Face text-encoder weights from a model folder, whichever layout it was saved in.</summary>
internal static class PretrainedWeights
{
    /// <summary>
    /// Loads <c>model.safetensors</c> or a sharded <c>model.safetensors.index.json</c> from <paramref name="path"/>
    /// strictly. Checkpoints saved from a <c>*ForCausalLM</c> class (keys <c>model.…</c> and <c>lm_head.…</c>) are mapped
    /// with <see cref="TextEncoderCheckpoints.CausalLmKeyMap"/>; base-model checkpoints load as they are.
    /// </summary>
    public static CheckpointLoadReport LoadDecoder(torch.nn.Module module, string path)
    {
        using var source = SafetensorsCheckpoint.Open(path);
        bool causalLm = source.Tensors.Any(t => t.Name.StartsWith("model.", StringComparison.Ordinal));
        var options = new CheckpointLoadOptions { KeyMap = causalLm ? TextEncoderCheckpoints.CausalLmKeyMap : null };
        return module.LoadTensors(source, options);
    }

    /// <summary>Builds a model from <c>config.json</c> in <paramref name="folder"/> and loads its weights; disposes it on failure.</summary>
    public static TModel Create<TModel>(string folder, Func<string, TModel> build, Action<TModel, string> load)
        where TModel : torch.nn.Module
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist.");
        }

        TModel model;
        using (ModuleFactory.SkipInitialization())
        {
            // Safe because every load path below is strict: each parameter is overwritten or the model is disposed.
            try
            {
                model = build(folder);
            }
            catch (ArgumentException e)
            {
                // A config field out of range (vocab_size: 0): a data problem in that file, named as such.
                throw new LuminaException($"{Path.Combine(folder, "config.json")}: {e.Message}", e);
            }
        }

        try
        {
            load(model, folder);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
