using static TorchSharp.torch;

namespace Lumina.Training.Shapes;

/// <summary>
/// The procedural dataset: sample i is a scene drawn from a stream seeded by (seed, i), rendered on demand, so nothing
/// is stored. Every combination of 3 shapes × 6 colours × 5 positions × 3 backgrounds occurs, with random size
/// (30–42 % of the side), a small jitter and one of three caption wordings.
/// </summary>
public sealed class ShapesDataset : ITrainingData
{
    /// <summary>Creates the dataset.</summary>
    /// <param name="imageSize">Side of the square images (≥ 32).</param>
    /// <param name="seed">Which stream of scenes (use different seeds for training and held-out sets).</param>
    public ShapesDataset(int imageSize = 32, long seed = 0)
    {
        if (imageSize < 32) throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "Shapes are drawn at 32×32 or larger.");
        ImageSize = imageSize;
        Seed = seed;
    }

    /// <summary>Side of the images.</summary>
    public int ImageSize { get; }

    /// <summary>The stream seed.</summary>
    public long Seed { get; }

    /// <summary>The scene of sample <paramref name="index"/> (deterministic).</summary>
    public ShapeScene Scene(long index)
    {
        var rng = new SplitMix64(unchecked((ulong)Seed * 0xD1B54A32D192ED03UL ^ (ulong)index * 0x9E3779B97F4A7C15UL));
        var shape = (ShapeKind)rng.Next(3);
        var color = ShapePalette.ShapeColors[rng.Next(ShapePalette.ShapeColors.Count)];
        var position = (ShapePosition)rng.Next(5);
        var background = ShapePalette.BackgroundColors[rng.Next(ShapePalette.BackgroundColors.Count)];
        var scale = 0.30 + 0.12 * rng.NextDouble();
        var jx = (rng.NextDouble() * 2 - 1) * 0.03;
        var jy = (rng.NextDouble() * 2 - 1) * 0.03;
        var template = rng.Next(3);
        return new ShapeScene(shape, color, position, background, scale, jx, jy, template);
    }

    /// <summary>Renders sample <paramref name="index"/>.</summary>
    public RgbImage Image(long index) => ShapeRenderer.Render(Scene(index), ImageSize);

    /// <summary>Samples [first, first + count) as a batch: images [count, 3, S, S] in [−1, 1] and their captions.</summary>
    public TrainingBatch Batch(long first, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        using var scope = NewDisposeScope();
        var images = new Tensor[count];
        var captions = new string[count];
        for (var i = 0; i < count; i++)
        {
            var scene = Scene(first + i);
            images[i] = ShapeRenderer.Render(scene, ImageSize).ToTensor();
            captions[i] = scene.Caption;
        }
        return new TrainingBatch(stack(images, 0).MoveToOuterDisposeScope(), captions);
    }

    /// <inheritdoc />
    public TrainingBatch GetBatch(long step, int batchSize) => Batch(checked(step * batchSize), batchSize);

    /// <summary>A small, stable pseudo-random generator (SplitMix64), identical on every platform and runtime.</summary>
    private struct SplitMix64(ulong state)
    {
        private ulong _state = state;

        public ulong NextULong()
        {
            var z = unchecked(_state += 0x9E3779B97F4A7C15UL);
            z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
            z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
            return z ^ (z >> 31);
        }

        public int Next(int n) => (int)(NextULong() % (ulong)n);

        public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));
    }
}
