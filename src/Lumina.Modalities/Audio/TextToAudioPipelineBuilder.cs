using Lumina.Pipelines;

namespace Lumina.Audio;

/// <summary>
/// Fluent builder of a <see cref="TextToAudioPipeline"/> (<c>LuminaPipeline.TextToAudio()</c>): the shared
/// <see cref="PipelineBuilder{TBuilder, TPipeline}"/> steps over <see cref="TextToAudioPipeline.DefaultSettings"/>.
/// </summary>
public sealed class TextToAudioPipelineBuilder : PipelineBuilder<TextToAudioPipelineBuilder, TextToAudioPipeline>
{
    private protected override SamplingSettings FamilyDefaults => TextToAudioPipeline.DefaultSettings;

    /// <inheritdoc />
    public override async Task<TextToAudioPipeline> BuildAsync(CancellationToken cancellationToken = default)
    {
        var (folder, _) = await ResolveSourceAsync(cancellationToken).ConfigureAwait(false);
        var (l, s) = (Load, Settings);
        return await Task.Run(() => TextToAudioLoader.Load(folder, l, s, cancellationToken), cancellationToken).ConfigureAwait(false);
    }
}
