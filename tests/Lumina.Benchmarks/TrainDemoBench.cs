using System.Diagnostics;
using System.Globalization;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Tensors;
using Lumina.Tokenizers;
using Lumina.Training;
using Lumina.Training.Shapes;
using Lumina.Training.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Benchmarks;

/// <summary>
/// Trains the small pixel-space demo Next-DiT on the procedural shapes dataset, conditioned by a tiny frozen
/// Gemma-architecture encoder whose SentencePiece tokenizer is built from the captions, then scores prompt adherence
/// on held-out captions. Writes tokenizer/, text_encoder/ and results/checkpoints/ under the output folder.
/// Args: [--steps N=200] [--batch B=16] [--size S=32] [--eval N=40] [--lr 5e-4] [--out folder] [--resume] [--threads T].
/// </summary>
public sealed class TrainDemoBench : IBenchCommand
{
    public string Name => "train-demo";

    public string Description => "Train the shapes demo Next-DiT (pixel space, tiny Gemma encoder) and score prompt adherence (args: --steps N --batch B --eval N --out DIR)";

    /// <summary>The demo backbone: Next-DiT blocks at 32×32 pixels, patch 2 (256 tokens).</summary>
    public static NextDiTConfig DemoConfig { get; set; } = new()
    {
        PatchSize = 2, InChannels = 3, Dim = 128, Layers = 4, Heads = 4, KvHeads = 2, MultipleOf = 32,
        LearnSigma = true, QkNorm = true, CaptionDim = 64,
    };

    public int Run(string[] args)
    {
        var steps = IntArg(args, "--steps", 200);
        var batch = IntArg(args, "--batch", 16);
        var size = IntArg(args, "--size", 32);
        var evalCount = IntArg(args, "--eval", 40);
        var threads = IntArg(args, "--threads", 0);
        var lr = double.Parse(Arg(args, "--lr") ?? "5e-4", CultureInfo.InvariantCulture);
        var output = Path.GetFullPath(Arg(args, "--out") ?? Path.Combine("artifacts", "train-demo"));
        if (threads > 0) torch.set_num_threads(threads);
        DemoConfig = DemoConfig with { PatchSize = IntArg(args, "--patch", DemoConfig.PatchSize), Dim = IntArg(args, "--dim", DemoConfig.Dim), Layers = IntArg(args, "--layers", DemoConfig.Layers), Heads = IntArg(args, "--heads", DemoConfig.Heads), KvHeads = IntArg(args, "--kvheads", DemoConfig.KvHeads ?? 2) };
        Directory.CreateDirectory(output);
        Console.WriteLine($"train-demo: {steps} steps × batch {batch} at {size}px, lr {lr}, output {output}, torch threads {torch.get_num_threads()}");

        // 1. Tokenizer built from the training captions (seed 0); held-out captions come from seed 1.
        var train = new ShapesDataset(size, seed: 0);
        var tokenizerDir = Path.Combine(output, "tokenizer");
        SentencePieceVocabularyBuilder.WriteTokenizerFolder(tokenizerDir, Enumerable.Range(0, 20_000).Select(i => train.Scene(i).Caption));
        var tokenizer = SentencePieceTextTokenizer.FromFolder(tokenizerDir);
        Console.WriteLine($"tokenizer: {tokenizer.VocabularySize} pieces → {tokenizerDir}");

        // 2. A tiny Gemma with seeded random weights, kept frozen (random features already separate the words).
        var gemmaConfig = new GemmaConfig
        {
            VocabSize = tokenizer.VocabularySize, HiddenSize = DemoConfig.CaptionDim, IntermediateSize = 128, NumHiddenLayers = 2,
            NumAttentionHeads = 2, NumKeyValueHeads = 1, HeadDim = 32, MaxPositionEmbeddings = 256,
        };
        using var gemma = new GemmaModel(gemmaConfig);
        using (var g = new Generator(1234))
        using (no_grad())
            foreach (var (name, p) in gemma.named_parameters())
            {
                if (name.Contains("norm", StringComparison.Ordinal)) p.zero_();
                else p.normal_(0, name.Contains("embed", StringComparison.Ordinal) ? 1.0 : 0.05, g);
                p.requires_grad = false;
            }
        var textDir = Path.Combine(output, "text_encoder");
        Directory.CreateDirectory(textDir);
        gemma.SaveSafetensors(Path.Combine(textDir, "model.safetensors"), keyMap: k => "model." + k);
        File.WriteAllText(Path.Combine(textDir, "config.json"), string.Create(CultureInfo.InvariantCulture,
            $$"""{"architectures": ["GemmaForCausalLM"], "model_type": "gemma", "vocab_size": {{gemmaConfig.VocabSize}}, "hidden_size": {{gemmaConfig.HiddenSize}}, "intermediate_size": {{gemmaConfig.IntermediateSize}}, "num_hidden_layers": {{gemmaConfig.NumHiddenLayers}}, "num_attention_heads": {{gemmaConfig.NumAttentionHeads}}, "num_key_value_heads": {{gemmaConfig.NumKeyValueHeads}}, "head_dim": {{gemmaConfig.HeadDim}}, "max_position_embeddings": {{gemmaConfig.MaxPositionEmbeddings}}, "rms_norm_eps": 1e-06, "hidden_activation": "gelu_pytorch_tanh", "rope_theta": 10000.0, "pad_token_id": 0, "eos_token_id": 1, "bos_token_id": 2, "torch_dtype": "float32"}"""));
        var encoder = new GemmaCaptionEncoder(gemma, tokenizer);

        // 3. The DiT and the trainer.
        using var model = new NextDiT(DemoConfig with { });
        DiTInitializer.Initialize(model, seed: 0);
        Console.WriteLine($"NextDiT: {model.parameters().Sum(p => p.numel()):N0} parameters");
        var options = new FlowMatchingTrainerOptions
        {
            LearningRate = lr, BatchSize = batch, EmaDecay = 0.999, Seed = 0, CaptionDropout = 0.1,
            OutputDirectory = Path.Combine(output, "results"), CheckpointEvery = 500,
        };
        using var trainer = new FlowMatchingTrainer(new NextDiTVelocityModel(model), encoder, options);
        if (args.Contains("--resume") && TrainingCheckpoint.Latest(options.OutputDirectory) is { } latest)
        {
            trainer.LoadCheckpoint(latest);
            Console.WriteLine($"resumed from {latest} at step {trainer.Step}");
        }

        var clock = Stopwatch.StartNew();
        var targetSteps = args.Contains("--eval-only") ? (int)trainer.Step : steps;
        var window = new List<double>();
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        try
        {
            trainer.Train(train, targetSteps, new InlineProgress(p =>
            {
                window.Add(p.Loss);
                if (p.Step % 10 == 0 || p.Step == p.TargetStep)
                {
                    Console.WriteLine($"step {p.Step,6}/{p.TargetStep}  loss {window.Average():F4}  grad {p.GradNorm:F3}  {p.StepsPerSecond:F2} it/s");
                    window.Clear();
                }
            }), cts.Token);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine($"cancelled at step {trainer.Step}; checkpoint written, continue with --resume");
            return 1;
        }
        var trainSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"trained to step {trainer.Step} in {trainSeconds:F0} s");

        // 4. Prompt adherence on held-out captions (seed 1), with the EMA weights when the run was long enough to use them.
        if (evalCount > 0)
        {
            using var evalModel = new NextDiT(DemoConfig);
            var checkpoint = TrainingCheckpoint.Latest(options.OutputDirectory!)!;
            var useEma = trainer.Step >= 3000;
            evalModel.LoadSafetensors(Path.Combine(checkpoint, useEma ? TrainingCheckpoint.EmaFile : TrainingCheckpoint.ModelFile));
            var heldOut = new ShapesDataset(size, seed: 1);
            var scenes = Enumerable.Range(0, evalCount).Select(i => heldOut.Scene(i)).ToList();
            clock.Restart();
            var shift = Arg(args, "--shift") is { } sh ? double.Parse(sh, CultureInfo.InvariantCulture) : (double?)null;
            var cfg = Arg(args, "--cfg") is { } cf ? double.Parse(cf, CultureInfo.InvariantCulture) : 4.0;
            var (summary, images) = ShapeAdherenceEvaluator.Evaluate(evalModel, encoder, scenes, new ShapeEvaluationOptions { ImageSize = size, Steps = 30, GuidanceScale = cfg, TimeShift = shift });
            if (Arg(args, "--save") is { } saveDir)
            {
                Directory.CreateDirectory(saveDir);
                for (var i = 0; i < images.Count; i++)
                {
                    var a = PromptAdherenceAnalyser.Analyse(images[i]);
                    var name = $"{i:D3}-{scenes[i].Color.Name}-{scenes[i].Shape}-{scenes[i].Position}-got-{a.Color?.Name}-{a.Shape}-{a.Position}-fill{a.FillRatio:F2}.ppm".ToLowerInvariant();
                    using var f = File.Create(Path.Combine(saveDir, name));
                    f.Write(System.Text.Encoding.ASCII.GetBytes($"P6\n{images[i].Width} {images[i].Height}\n255\n"));
                    f.Write(images[i].Pixels);
                }
            }
            Console.WriteLine($"held-out adherence ({(useEma ? "EMA" : "raw")} weights, midpoint 30 steps, cfg 4): {summary}  [{clock.Elapsed.TotalSeconds / evalCount:F2} s/image]");
        }
        return 0;
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int IntArg(string[] args, string name, int fallback)
        => Arg(args, name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    private sealed class InlineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
