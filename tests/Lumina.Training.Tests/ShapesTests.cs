using Lumina.Training.Shapes;
using static TorchSharp.torch;

namespace Lumina.Training.Tests;

public sealed class ShapesTests
{
    [Theory]
    [InlineData(32, 600)]
    [InlineData(64, 200)]
    public void TheAnalyserRecognisesEveryRenderedScene(int size, int count)
    {
        var data = new ShapesDataset(size, seed: 1);
        var results = new List<ShapeAdherence>();
        var misses = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var scene = data.Scene(i);
            var analysis = PromptAdherenceAnalyser.Analyse(ShapeRenderer.Render(scene, size));
            var r = analysis.Against(scene);
            results.Add(r);
            if (!r.All) misses.Add($"{scene.Caption} (scale {scene.Scale:F2}) → {analysis}");
        }
        var summary = AdherenceSummary.From(results);
        Assert.True(misses.Count == 0, $"{summary}\n{string.Join("\n", misses.Take(10))}");
    }

    [Fact]
    public void TheAnalyserToleratesNoiseAndBlur()
    {
        var data = new ShapesDataset(32, seed: 2);
        var results = new List<ShapeAdherence>();
        var misses = new List<string>();
        using var g = new Generator(4);
        for (var i = 0; i < 200; i++)
        {
            var scene = data.Scene(i);
            using var clean = ShapeRenderer.Render(scene).ToTensor().unsqueeze(0);
            using var blurred = nn.functional.avg_pool2d(nn.functional.pad(clean, [1, 1, 1, 1], TorchSharp.PaddingModes.Replicate), 3, 1);
            using var noisy = blurred + randn(blurred.shape, generator: g) * 0.1;
            var analysis = PromptAdherenceAnalyser.Analyse(RgbImage.FromTensor(noisy));
            results.Add(analysis.Against(scene));
            if (!results[^1].All) misses.Add($"{scene.Caption} (scale {scene.Scale:F2}) → {analysis.Shape} fill {analysis.FillRatio:F2}");
        }
        var s = AdherenceSummary.From(results);
        Assert.True(s.Color >= 0.98 && s.Position >= 0.98 && s.Shape >= 0.97 && s.Background >= 0.99, $"{s}\n{string.Join("\n", misses.Take(12))}");
    }

    [Fact]
    public void TheAnalyserReportsWhatIsWrong()
    {
        var red = ShapePalette.Find("red")!;
        var blue = ShapePalette.Find("blue")!;
        var white = ShapePalette.Find("white")!;
        var black = ShapePalette.Find("black")!;
        var asked = new ShapeScene(ShapeKind.Circle, red, ShapePosition.Left, white);

        var blank = PromptAdherenceAnalyser.Analyse(new RgbImage(32, 32, white));
        Assert.False(blank.Found);
        Assert.Equal(new ShapeAdherence(false, false, false, true), blank.Against(asked));

        var drawn = ShapeRenderer.Render(new ShapeScene(ShapeKind.Triangle, blue, ShapePosition.Bottom, black));
        Assert.Equal(new ShapeAdherence(false, false, false, false), PromptAdherenceAnalyser.Score(asked, drawn));

        var onlyColour = ShapeRenderer.Render(asked with { Color = blue });
        Assert.Equal(new ShapeAdherence(false, true, true, true), PromptAdherenceAnalyser.Score(asked, onlyColour));
        var square = PromptAdherenceAnalyser.Analyse(ShapeRenderer.Render(asked with { Shape = ShapeKind.Square }));
        Assert.Equal(ShapeKind.Square, square.Shape);
        Assert.InRange(square.FillRatio, 0.95, 1.0);
    }

    [Fact]
    public void TheDatasetIsDeterministicAndCoversEveryCombination()
    {
        var a = new ShapesDataset(32, seed: 7);
        var b = new ShapesDataset(32, seed: 7);
        var other = new ShapesDataset(32, seed: 8);
        Assert.Equal(a.Scene(123), b.Scene(123));
        Assert.Equal(a.Image(5).Pixels, b.Image(5).Pixels);
        Assert.NotEqual(a.Scene(0).Caption + a.Scene(1).Caption, other.Scene(0).Caption + other.Scene(1).Caption);

        var combos = new HashSet<(ShapeKind, string, ShapePosition, string)>();
        for (var i = 0; i < 4000; i++)
        {
            var s = a.Scene(i);
            combos.Add((s.Shape, s.Color.Name, s.Position, s.Background.Name));
            var parsed = ShapeScene.TryParse(s.Caption);
            Assert.NotNull(parsed);
            Assert.Equal((s.Shape, s.Color, s.Position, s.Background), (parsed!.Shape, parsed.Color, parsed.Position, parsed.Background));
        }
        Assert.Equal(3 * 6 * 5 * 3, combos.Count);
        Assert.Null(ShapeScene.TryParse("a lighthouse at dusk"));
    }

    [Fact]
    public void BatchesAreImagesInMinusOneToOneWithTheirCaptions()
    {
        var data = new ShapesDataset(32, seed: 3);
        using var batch = data.GetBatch(step: 2, batchSize: 4);
        Assert.Equal([4L, 3, 32, 32], batch.Data.shape);
        Assert.Equal(data.Scene(9).Caption, batch.Captions[1]);
        Assert.True(batch.Data.min().item<float>() >= -1 && batch.Data.max().item<float>() <= 1);
        var roundTrip = RgbImage.FromTensor(batch.Data[1]);
        Assert.Equal(data.Image(9).Pixels, roundTrip.Pixels);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShapesDataset(16));
    }
}
