using Lumina.Checkpoints;
using Lumina.Families;
using Lumina.Models.Autoencoders;
using Lumina.Schedulers;
using Lumina.Tensors;

namespace Lumina.Pipelines;

/// <summary>The folders a loaded pipeline's components came from (configs and tokenizer files are copied from them on save).</summary>
/// <param name="Folder">The model folder.</param>
/// <param name="TextEncoder">The text encoder folder (config.json).</param>
/// <param name="Tokenizer">The tokenizer folder.</param>
/// <param name="Vae">The VAE folder (config.json), or null for pixel space.</param>
internal sealed record PipelineSources(ModelFolder Folder, string TextEncoder, string Tokenizer, string? Vae);

public sealed partial class TextToImagePipeline
{
    /// <summary>Where the components were loaded from; set by the loader.</summary>
    internal PipelineSources? Sources { get; init; }

    /// <summary>
    /// Writes the pipeline as a diffusers folder (diffusers' <c>save_pretrained</c>), in turn with generations: <c>model_index.json</c>,
    /// <c>transformer/</c> under the family's diffusers names, <c>text_encoder/</c>, <c>tokenizer/</c>, <c>vae/</c> (none
    /// for a pixel-space model) and <c>scheduler/scheduler_config.json</c> whose <c>shift</c> is <see cref="Settings"/>'
    /// time shift, so <c>FromPretrained</c> of the folder gives the same weights and, at default settings, the same images.
    /// Weights are written from memory in their current dtype; configs and tokenizer files are copied from the folders
    /// the pipeline was loaded from.
    /// </summary>
    /// <param name="folder">The target folder: new or empty, or an existing diffusers folder when <paramref name="overwrite"/> is set.</param>
    /// <param name="overwrite">Replace an existing diffusers folder.</param>
    /// <param name="cancellationToken">Checked between components.</param>
    /// <exception cref="NotSupportedException">The pipeline was assembled by hand, or its family has no diffusers layout (Lumina-T2I).</exception>
    /// <exception cref="IOException">The target exists and may not be replaced.</exception>
    public async Task SavePretrainedAsync(string folder, bool overwrite = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        gate.ThrowIfDisposed();
        var sources = Sources ?? throw new NotSupportedException(
            "SavePretrainedAsync needs a pipeline loaded with FromPretrained (a hand-assembled one does not know its configs and tokenizer files).");
        var family = Family ?? throw new NotSupportedException("SavePretrainedAsync needs the pipeline's model family; load it with FromPretrained.");
        var transformerClass = family.DiffusersTransformerClass ?? throw new NotSupportedException(
            $"{family.DisplayName} has no diffusers layout, so it cannot be saved as a diffusers folder.");
        var sampleSize = sources.Folder.TransformerSampleSize
            ?? (Settings.Width is int w && Settings.Height == w ? w / LatentSpace.DownscaleFactor : SamplingSettings.DefaultSide / LatentSpace.DownscaleFactor);
        var scheduler = (sources.Folder.SchedulerConfig ?? new FlowMatchSchedulerConfig()) with { Shift = Settings.TimeShift };

        var index = new DiffusersModelIndex
        {
            PipelineClass = family.DiffusersPipelineClass,
            Components =
            [
                new("scheduler", new DiffusersComponent("diffusers", FlowMatchSchedulerConfig.ClassName)),
                new("text_encoder", family.DiffusersTextEncoder),
                new("tokenizer", family.DiffusersTokenizer),
                new("transformer", new DiffusersComponent("diffusers", transformerClass)),
                new("vae", LatentSpace is AutoencoderKL ? new DiffusersComponent("diffusers", "AutoencoderKL") : DiffusersComponent.None),
            ],
        };
        var writers = new Dictionary<string, Action<string>>
        {
            ["transformer"] = dir => family.SaveTransformer(Transformer, dir, sampleSize),
            ["text_encoder"] = dir =>
            {
                CaptionEncoder.Module.SaveSafetensors(Path.Combine(dir, "model.safetensors"));
                File.Copy(Path.Combine(sources.TextEncoder, "config.json"), Path.Combine(dir, "config.json"));
            },
            ["tokenizer"] = DiffusersFolder.CopyFrom(sources.Tokenizer),
            ["scheduler"] = DiffusersFolder.JsonFile(DiffusersFolder.SchedulerConfigFile, scheduler.ToJson()),
        };
        if (LatentSpace is AutoencoderKL vae)
        {
            var vaeConfig = sources.Vae is { } v ? Path.Combine(v, "config.json") : throw new NotSupportedException("The VAE's source folder is unknown.");
            writers["vae"] = dir =>
            {
                vae.SaveSafetensors(Path.Combine(dir, "diffusion_pytorch_model.safetensors"));
                File.Copy(vaeConfig, Path.Combine(dir, "config.json"));
            };
        }
        await gate.RunAsync(() =>
        {
            DiffusersFolder.Write(folder, index, writers, overwrite, cancellationToken);
            return folder;
        }, cancellationToken).ConfigureAwait(false);
    }
}
