using Lumina.Families;
using Lumina.Models.DiT;
using Lumina.Pipelines;

namespace Lumina.Video;

/// <summary>
/// Fluent builder of a <see cref="TextToVideoPipeline"/> (<c>LuminaPipeline.TextToVideo()</c>): the shared
/// <see cref="PipelineBuilder{TBuilder, TPipeline}"/> steps plus the video architecture of an original-layout folder.
/// <code>
/// using var video = await LuminaPipeline.TextToVideo().FromPretrained(folder).WithSolver(OdeMethod.Euler, steps: 30).BuildAsync();
/// </code>
/// </summary>
public sealed class TextToVideoPipelineBuilder : PipelineBuilder<TextToVideoPipelineBuilder, TextToVideoPipeline>
{
    private protected override SamplingSettings FamilyDefaults => LuminaNextFamily.Instance.DefaultSettings;

    /// <summary>Original layout: the video architecture (must have <see cref="NextDiTConfig.Video"/> set).</summary>
    public TextToVideoPipelineBuilder WithTransformerConfig(NextDiTConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (!config.Video) throw new ArgumentException("A text-to-video transformer config needs Video = true.", nameof(config));
        Load = Load with { TransformerConfig = config };
        return this;
    }

    /// <inheritdoc />
    public override async Task<TextToVideoPipeline> BuildAsync(CancellationToken cancellationToken = default)
    {
        var (folder, modelId) = await ResolveSourceAsync(cancellationToken).ConfigureAwait(false);
        var l = Load;
        return await Task.Run(() => TextToVideoLoader.Load(folder, l, SettingsOver, modelId, cancellationToken), cancellationToken).ConfigureAwait(false);
    }
}
