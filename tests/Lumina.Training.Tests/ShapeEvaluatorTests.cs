using Lumina.Models.DiT;
using Lumina.Training.Shapes;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Training.Tests;

public sealed class ShapeEvaluatorTests
{
    [Fact]
    public void EvaluationGeneratesOneScoredImagePerSceneDeterministically()
    {
        var config = TinyModels.DiTConfig;
        using var model = TinyModels.PretrainedLike(seed: 3);
        var encoder = TinyModels.CaptionEncoder();
        var data = new ShapesDataset(32, seed: 5);
        var scenes = Enumerable.Range(0, 3).Select(i => data.Scene(i)).ToList();
        var options = new ShapeEvaluationOptions { Steps = 2, BatchSize = 2, Method = Lumina.Solvers.OdeMethod.Euler, Seed = 9 };

        var (summary, images) = ShapeAdherenceEvaluator.Evaluate(model, encoder, scenes, options);
        var (again, imagesAgain) = ShapeAdherenceEvaluator.Evaluate(model, encoder, scenes, options);

        Assert.Equal(3, summary.Count);
        Assert.Equal(3, images.Count);
        Assert.All(images, i => Assert.Equal((32, 32), (i.Width, i.Height)));
        Assert.Equal(summary, again);
        for (var i = 0; i < 3; i++) Assert.Equal(images[i].Pixels, imagesAgain[i].Pixels);
        Assert.Throws<ArgumentException>(() => ShapeAdherenceEvaluator.Evaluate(model, encoder, []));
        Assert.Equal(3, config.InChannels);
    }
}
