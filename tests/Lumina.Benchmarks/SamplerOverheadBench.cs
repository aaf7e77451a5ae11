using System.Diagnostics;
using Lumina.Models.DiT;
using Lumina.Pipelines;
using static TorchSharp.torch;

namespace Lumina.Benchmarks;

/// <summary>
/// Sampler overhead of a real generation: the pipeline's transformer is wrapped in a timing decorator (same process,
/// same pipeline code), and the time outside transformer calls is divided by the whole generation time. Also gives the
/// same ratio within the sampling loop alone (first model call to the decoding report), where it is the solver's and
/// the guidance's own cost.
/// </summary>
public sealed class SamplerOverheadBench : IBenchCommand
{
    public string Name => "sampler-overhead";

    public string Description => "Time outside model calls ÷ total generation time (args: [--model models/lumina-demo|random-demo|tiny] [--images 5] [--size S] [--steps N] [--threads T])";

    public int Run(string[] args)
    {
        BenchModel.SetThreads(args);
        var folder = BenchModel.Folder(args);
        var count = BenchModel.IntArg(args, "--images", 5);
        var loaded = BenchModel.Load(folder);
        var timed = new TimedTransformer(loaded.Transformer);
        // The timed pipeline takes over the loaded components (the loaded one is dropped without disposing them).
        using var pipe = new TextToImagePipeline(timed, loaded.CaptionEncoder, loaded.LatentSpace, loaded.Settings, loaded.ModelId);
        var captions = BenchModel.HeldOut(count + 1);

        using (pipe.GenerateAsync(BenchModel.Request(args, captions[0].Caption, 0)).GetAwaiter().GetResult()) { } // warm-up
        Console.WriteLine($"{"image",5} {"total ms",9} {"model ms",9} {"calls",6} {"outside/total",14} {"loop ms",9} {"outside/loop",13}");
        var whole = new List<double>();
        var loop = new List<double>();
        for (var i = 1; i <= count; i++)
        {
            timed.Reset();
            var decodingAt = 0.0;
            var clock = Stopwatch.StartNew();
            var progress = new Sync<GenerationProgress>(p =>
            {
                if (p.Stage == GenerationStage.Decoding) decodingAt = clock.Elapsed.TotalMilliseconds;
            });
            using var result = pipe.GenerateAsync(BenchModel.Request(args, captions[i].Caption, i), progress).GetAwaiter().GetResult();
            var total = clock.Elapsed.TotalMilliseconds;
            var model = timed.Milliseconds;
            var loopMs = decodingAt - timed.FirstCallAtMilliseconds(clock);
            whole.Add((total - model) / total);
            loop.Add((loopMs - model) / loopMs);
            Console.WriteLine($"{i,5} {total,9:F1} {model,9:F1} {timed.Calls,6} {whole[^1],14:F4} {loopMs,9:F1} {loop[^1],13:F4}");
        }
        Console.WriteLine($"median time outside model calls ÷ total generation: {BenchModel.Median(whole):F4}; within the sampling loop: {BenchModel.Median(loop):F4}");
        return 0;
    }

    private sealed class Sync<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>Times every <see cref="IDiffusionTransformer.Forward"/> call of the wrapped transformer (which it owns); the
    /// guidance combination now counts as sampler time.</summary>
    private sealed class TimedTransformer(IDiffusionTransformer inner) : IDiffusionTransformer
    {
        private readonly Stopwatch inside = new();
        private long firstCallTimestamp;

        public int Calls { get; private set; }

        public double Milliseconds => inside.Elapsed.TotalMilliseconds;

        public int LatentChannels => inner.LatentChannels;

        public int PatchSize => inner.PatchSize;

        public int CaptionDim => inner.CaptionDim;

        public nn.Module Module => inner.Module;

        public bool Supports(DiTConditioningKind kind) => inner.Supports(kind);

        public bool SupportsVideo => inner.SupportsVideo;

        public void Reset()
        {
            inside.Reset();
            Calls = 0;
            firstCallTimestamp = 0;
        }

        /// <summary>When the first call started, on <paramref name="clock"/>'s time line (started just before the generation).</summary>
        public double FirstCallAtMilliseconds(Stopwatch clock)
            => clock.Elapsed.TotalMilliseconds - Stopwatch.GetElapsedTime(firstCallTimestamp).TotalMilliseconds;

        public Tensor Forward(DiTInput input)
        {
            if (Calls++ == 0) firstCallTimestamp = Stopwatch.GetTimestamp();
            inside.Start();
            try
            {
                return inner.Forward(input);
            }
            finally
            {
                inside.Stop();
            }
        }

        public void Dispose() => inner.Dispose();
    }
}
