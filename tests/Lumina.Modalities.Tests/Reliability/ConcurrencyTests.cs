using Lumina.Sampling;
using Lumina.DependencyInjection;
using Lumina.Testing;
using Lumina.Pipelines;
using Lumina.Solvers;
using Microsoft.Extensions.DependencyInjection;

namespace Lumina.Modalities.Tests.Reliability;

/// <summary>
/// Eight threads share one DI-registered pipeline: 40 requests (different prompts, seeds, sizes, solvers, some with step
/// caching) all complete, nothing deadlocks, and every output equals the single-threaded output of the same request
/// bit for bit.
/// </summary>
public sealed class ConcurrencyTests(TinyLuminaNextFolders folders) : IClassFixture<TinyLuminaNextFolders>
{
    private const int Threads = 8;
    private const int RequestsPerThread = 5;

    [Fact]
    public async Task EightThreadsFiveRequestsEachGiveTheSingleThreadedOutputs()
    {
        var services = new ServiceCollection();
        services.AddLumina().AddTextToImage("shared", o =>
        {
            o.Model = folders.Diffusers;
            o.Settings = TextToImagePresets.LuminaNext with { NumInferenceSteps = 2 };
        });
        await using var provider = services.BuildServiceProvider();
        var pipelines = provider.GetRequiredService<ILuminaPipelines>();

        var requests = Enumerable.Range(0, Threads).Select(thread => Enumerable.Range(0, RequestsPerThread)
            .Select(k => RequestFor(thread * RequestsPerThread + k)).ToArray()).ToArray();

        // Each thread resolves the pipeline itself and submits its five requests at once; the start is synchronised.
        var submitted = new Task<TextToImageResult>[Threads][];
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(thread => new Thread(() =>
        {
            start.SignalAndWait();
            var pipe = pipelines.GetTextToImageAsync("shared").GetAwaiter().GetResult();
            submitted[thread] = requests[thread].Select(r => pipe.GenerateAsync(r)).ToArray();
        })).ToList();
        threads.ForEach(t => t.Start());
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromMinutes(2)), "a submitting thread hung"));
        var all = submitted.SelectMany(s => s).ToArray();
        await Task.WhenAny(Task.WhenAll(all), Task.Delay(TimeSpan.FromMinutes(3)));
        Assert.True(all.All(t => t.IsCompleted), $"{all.Count(t => !t.IsCompleted)} of 40 requests did not finish within 3 minutes (deadlock?)");
        var results = await Task.WhenAll(all);
        try
        {
            var pipe = await pipelines.GetTextToImageAsync("shared");
            for (var i = 0; i < results.Length; i++)
            {
                using var alone = await pipe.GenerateAsync(RequestFor(i));
                Assert.Equal(RequestFor(i).Seed, results[i].Metadata[0].Seed);
                Assert.True(alone.ToPng(0).AsSpan().SequenceEqual(results[i].ToPng(0)), $"request {i} differs from its single-threaded output");
                Assert.Equal(alone.Evaluations, results[i].Evaluations);
            }
        }
        finally
        {
            foreach (var r in results) r.Dispose();
        }
    }

    private static TextToImageRequest RequestFor(int i) => new($"shape {i}: a {(i % 2 == 0 ? "red circle" : "blue square")}")
    {
        Seed = 1000 + i,
        Width = 16 * (1 + i % 3),
        Height = 16 * (1 + i % 2),
        Solver = i % 4 == 3 ? OdeMethod.Euler : null,
        NumInferenceSteps = 2 + i % 3,
        StepCache = i % 5 == 4 ? new StepCacheOptions { Threshold = 0.5 } : null,
    };
}
