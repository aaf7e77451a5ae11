using Lumina.Sampling;
using System.Globalization;
using Lumina.Pipelines;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Video;

/// <summary>One generated video: its frames in order, each carrying the generation metadata in its PNG text chunks.</summary>
public sealed class TextToVideoResult : IDisposable
{
    internal TextToVideoResult(IReadOnlyList<Image<Rgb24>> frames, GenerationMetadata metadata, ModelEvaluations evaluations)
    {
        Frames = frames;
        Metadata = metadata;
        Evaluations = evaluations;
    }

    /// <summary>Transformer calls the sampler made, and how many step caching skipped.</summary>
    public ModelEvaluations Evaluations { get; }

    /// <summary>The frames, first to last, all <see cref="GenerationMetadata.Width"/>×<see cref="GenerationMetadata.Height"/>.</summary>
    public IReadOnlyList<Image<Rgb24>> Frames { get; }

    /// <summary>How the video was made (seed included). Each frame's PNG also has <c>frame</c> and <c>frames</c> chunks.</summary>
    public GenerationMetadata Metadata { get; }

    /// <summary>Encodes the frames as a looping animated GIF (256-colour palette per frame).</summary>
    /// <param name="frameDelayMilliseconds">Time each frame shows, rounded to GIF's 10 ms unit (at least 10 ms).</param>
    public byte[] ToGif(int frameDelayMilliseconds = 125)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frameDelayMilliseconds, 10);
        var delay = (int)Math.Round(frameDelayMilliseconds / 10.0);
        using var gif = Frames[0].Clone();
        gif.Metadata.GetGifMetadata().RepeatCount = 0;
        gif.Frames.RootFrame.Metadata.GetGifMetadata().FrameDelay = delay;
        for (var i = 1; i < Frames.Count; i++)
            gif.Frames.AddFrame(Frames[i].Frames.RootFrame).Metadata.GetGifMetadata().FrameDelay = delay;
        using var stream = new MemoryStream();
        gif.SaveAsGif(stream);
        return stream.ToArray();
    }

    /// <summary>Writes <see cref="ToGif"/> to <paramref name="path"/>.</summary>
    public void SaveGif(string path, int frameDelayMilliseconds = 125)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        File.WriteAllBytes(path, ToGif(frameDelayMilliseconds));
    }

    /// <summary>Writes every frame as <c>{stem}_{index:0000}.png</c> (with metadata) into <paramref name="folder"/>; returns the paths.</summary>
    public IReadOnlyList<string> SavePngFrames(string folder, string stem = "frame")
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentException.ThrowIfNullOrEmpty(stem);
        Directory.CreateDirectory(folder);
        var paths = new List<string>(Frames.Count);
        for (var i = 0; i < Frames.Count; i++)
        {
            var path = Path.Combine(folder, $"{stem}_{i.ToString("0000", CultureInfo.InvariantCulture)}.png");
            Frames[i].SaveAsPng(path);
            paths.Add(path);
        }
        return paths;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var frame in Frames) frame.Dispose();
    }
}
