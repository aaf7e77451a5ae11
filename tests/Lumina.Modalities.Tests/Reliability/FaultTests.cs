using Lumina.Sampling;
using System.Text;
using Lumina.Checkpoints;
using Lumina.Media;
using Lumina.Models.DiT;
using Lumina.Modalities.Tests.Pipelines;
using Lumina.Pipelines;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Modalities.Tests.Reliability;

/// <summary>
/// Faults and bad inputs on the real load and generate paths, each ending in a clean, named exception with no leaked
/// files and — where the work runs on the test thread, so TorchSharp's per-thread live-tensor count can be read — no
/// leaked native tensors: a failed load leaves no more live tensors behind than a good load followed by
/// <c>Dispose</c> does (a loader that forgot to dispose the components it had already loaded would leave the whole
/// transformer, 61 tensors, behind). (The safetensors header parser is fuzzed with 20,000 mutations in
/// <c>Lumina.Core.Tests/Tensors/HeaderFuzzTests</c>; truncated and bit-flipped whole files in <c>CorruptionTests</c>.)
/// </summary>
public sealed class FaultTests(TinyLuminaNextFolders folders) : IClassFixture<TinyLuminaNextFolders>
{
    private static long Live => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    /// <summary>
    /// Live tensors a good load + dispose of the tiny folder leaves on this thread: not zero, because a few load-time
    /// temporaries are left to the GC's finalizers (noted in docs/performance.md).
    /// </summary>
    private long GoodLoadResidue()
    {
        TextToImageLoader.Load(folders.Diffusers).Dispose(); // warm-up
        var before = Live;
        TextToImageLoader.Load(folders.Diffusers).Dispose();
        return Live - before;
    }

    private static void AssertNoMoreThan(long residue, long baseline, string what)
    {
        var left = Live - baseline;
        Assert.True(left <= residue, $"{what} left {left} live tensors; a good load and dispose leaves {residue}");
    }

    [Fact]
    public async Task TruncatedTransformerCheckpointFailsThroughFromPretrainedAndLeavesTheFolderAlone()
    {
        using var temp = new TempFolder("lumina-fault");
        var folder = CopyOf(folders.Diffusers, temp.Path);
        var weights = Path.Combine(folder, "transformer", "diffusion_pytorch_model.safetensors");
        Truncate(weights, 0.6);
        var before = Listing(temp.Path);

        var e = await Assert.ThrowsAsync<SafetensorsException>(() => LuminaPipeline.TextToImage().FromPretrained(folder).BuildAsync());
        Assert.Contains("diffusion_pytorch_model.safetensors", e.Message);
        Assert.Equal(before, Listing(temp.Path));
    }

    [Fact]
    public void CorruptShardMidLoadFreesTheComponentsAlreadyLoaded()
    {
        using var temp = new TempFolder("lumina-fault");
        var folder = CopyOf(folders.Diffusers, temp.Path);

        var residue = GoodLoadResidue();
        Assert.True(residue < 61, $"a good load and dispose leaves {residue} tensors");

        // the transformer loads first; then the text encoder's second shard is cut short (its data, not its header).
        Truncate(Path.Combine(folder, "text_encoder", "model-00002-of-00002.safetensors"), 0.9);
        var before = Listing(temp.Path);
        var baseline = Live;
        var e = Assert.Throws<SafetensorsException>(() => TextToImageLoader.Load(folder));
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
        AssertNoMoreThan(residue, baseline, "a load failing in the text encoder");
        Assert.Equal(before, Listing(temp.Path));

        // a header whose JSON is damaged mid-file fails the same clean way.
        var shard = Path.Combine(folder, "text_encoder", "model-00001-of-00002.safetensors");
        var bytes = File.ReadAllBytes(shard);
        var colon = Encoding.ASCII.GetString(bytes, 8, 200).IndexOf(':', StringComparison.Ordinal);
        bytes[8 + colon] = (byte)'#';
        File.WriteAllBytes(shard, bytes);
        baseline = Live;
        Assert.Throws<SafetensorsException>(() => TextToImageLoader.Load(folder));
        AssertNoMoreThan(residue, baseline, "a load failing on a damaged header");
    }

    [Fact]
    public async Task MissingComponentsAreNamed()
    {
        using var temp = new TempFolder("lumina-fault");
        var noVae = CopyOf(folders.Diffusers, Path.Combine(temp.Path, "a"));
        Directory.Delete(Path.Combine(noVae, "vae"), recursive: true);
        var vae = await Assert.ThrowsAsync<LuminaException>(() => LuminaPipeline.TextToImage().FromPretrained(noVae).BuildAsync());
        Assert.Contains("vae", vae.Message);

        var noWeights = CopyOf(folders.Diffusers, Path.Combine(temp.Path, "b"));
        File.Delete(Path.Combine(noWeights, "transformer", "diffusion_pytorch_model.safetensors"));
        var weights = await Assert.ThrowsAnyAsync<Exception>(() => LuminaPipeline.TextToImage().FromPretrained(noWeights).BuildAsync());
        Assert.True(weights is LuminaException or FileNotFoundException, $"unexpected {weights.GetType().Name}: {weights.Message}");
        Assert.Contains("transformer", weights.Message);

        var noShard = CopyOf(folders.Diffusers, Path.Combine(temp.Path, "c"));
        File.Delete(Path.Combine(noShard, "text_encoder", "model-00002-of-00002.safetensors"));
        var residue = GoodLoadResidue();
        var baseline = Live;
        var shard = Assert.ThrowsAny<Exception>(() => TextToImageLoader.Load(noShard));
        Assert.True(shard is LuminaException or FileNotFoundException, $"unexpected {shard.GetType().Name}: {shard.Message}");
        Assert.Contains("model-00002-of-00002.safetensors", shard.Message);
        AssertNoMoreThan(residue, baseline, "a load with a missing shard");
    }

    [Fact]
    public void MismatchedTextEncoderAndTransformerWidthsFailAndFreeEverything()
    {
        using var temp = new TempFolder("lumina-fault");
        var folder = CopyOf(folders.Diffusers, temp.Path);
        var transformer = Path.Combine(folder, "transformer");
        var wide = TinyLuminaNextFolders.DiT with { CaptionDim = 48 }; // the Gemma gives 32-wide features
        using (var generator = new Generator(9))
        using (var dit = TinyLuminaNextFolders.Randomize(new NextDiT(wide), generator, 0.3))
            NextDiTCheckpoint.SaveDiffusers(dit, Path.Combine(transformer, "diffusion_pytorch_model.safetensors"));

        // weights for 48 under a config that says 32: a strict load lists the mismatched keys.
        var residue = GoodLoadResidue();
        var baseline = Live;
        var mismatch = Assert.Throws<CheckpointMismatchException>(() => TextToImageLoader.Load(folder));
        Assert.Contains("cap_embedder", mismatch.Message);
        AssertNoMoreThan(residue, baseline, "a load with mismatched transformer weights");

        // config and weights agree on 48, the text encoder gives 32: the pipeline refuses the pair.
        File.WriteAllText(Path.Combine(transformer, "config.json"), wide.ToJson(16));
        baseline = Live;
        var pair = Assert.Throws<ArgumentException>(() => TextToImageLoader.Load(folder));
        Assert.Contains("32-wide features but the transformer expects 48", pair.Message);
        AssertNoMoreThan(residue, baseline, "a load whose components do not pair"); // all three were loaded, then refused
    }

    [Fact]
    public void CancelledSamplingThrowsFreesItsTensorsAndThePipelineStaysUsable()
    {
        using var pipe = TextToImageLoader.Load(folders.Diffusers);
        using var captions = pipe.CaptionEncoder.Encode(["a red circle", ""]);
        using var noise = randn([1, 4, 12, 8], generator: new Generator(1));
        var settings = pipe.Settings with { NumInferenceSteps = 6, StepCache = new StepCacheOptions { Threshold = 0.2 } };
        using var expected = pipe.SampleLatents(noise, captions, settings);

        var baseline = Live;
        using var cts = new CancellationTokenSource();
        var steps = new List<int>();
        var progress = new Sync<Lumina.Solvers.SamplingProgress>(p =>
        {
            steps.Add(p.Step);
            if (p.Step == 2) cts.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => pipe.SampleLatents(noise, captions, settings, progress, cts.Token));
        Assert.Equal([1, 2], steps);
        Assert.Equal(baseline, Live); // sampler state, step cache and every temporary are gone

        using var again = pipe.SampleLatents(noise, captions, settings);
        Assert.True(again.eq(expected).all().item<bool>(), "a run after a cancelled one gives the usual result");
    }

    [Fact]
    public async Task ARequestCancelledWhileQueuedLeavesThePipelineWorking()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        var release = new TaskCompletionSource();
        var running = new TaskCompletionSource();
        // the first request blocks inside its first progress report until released, holding the pipeline.
        var first = pipe.GenerateAsync(TinyLuminaNextFolders.Request(seed: 1), new Sync<GenerationProgress>(p =>
        {
            running.TrySetResult();
            release.Task.Wait();
        }));
        await running.Task;
        using var cts = new CancellationTokenSource();
        var queued = pipe.GenerateAsync(TinyLuminaNextFolders.Request(seed: 2), cancellationToken: cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        release.SetResult();
        using var firstResult = await first;
        using var after = await pipe.GenerateAsync(TinyLuminaNextFolders.Request(seed: 2));
        Assert.Single(after.Images);
    }

    [Fact]
    public async Task DiskFullWhileWritingLeavesNoPartialFile()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        using var result = await pipe.GenerateAsync(TinyLuminaNextFolders.Request());
        var png = result.ToPng(0);
        Assert.True(png.Length > 300);

        // to a stream: the stream's own IOException, and the result is still usable.
        var full = new DiskFullStream(new MemoryStream(), capacity: 256);
        var e = await Assert.ThrowsAsync<IOException>(() => result.WritePngAsync(0, full));
        Assert.Contains("No space left", e.Message);
        using (var ok = new MemoryStream())
        {
            await result.WritePngAsync(0, ok);
            Assert.Equal(png, ok.ToArray());
        }

        // to a path: the disk fills after 256 bytes; neither the target nor a temporary file remains.
        using var temp = new TempFolder("lumina-fault");
        var path = temp.File("out.png");
        await Assert.ThrowsAsync<IOException>(() => AtomicFile.WriteAsync(path, (s, ct) => result.WritePngAsync(0, new DiskFullStream(s, 256), ct)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));

        // replacing an existing file: a failed write keeps the old content.
        await result.SavePngAsync(0, path);
        Assert.Equal(png, await File.ReadAllBytesAsync(path));
        using var other = await pipe.GenerateAsync(TinyLuminaNextFolders.Request(seed: 99));
        await Assert.ThrowsAsync<IOException>(() => AtomicFile.WriteAsync(path, (s, ct) => other.WritePngAsync(0, new DiskFullStream(s, 100), ct)));
        Assert.Equal(png, await File.ReadAllBytesAsync(path));
        Assert.Equal(["out.png"], Directory.EnumerateFileSystemEntries(temp.Path).Select(Path.GetFileName));

        // a cancelled save writes nothing; a bad folder is named.
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => other.SavePngAsync(0, temp.File("cancelled.png"), cts.Token));
        Assert.Equal(["out.png"], Directory.EnumerateFileSystemEntries(temp.Path).Select(Path.GetFileName));
        var missing = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => result.SavePngAsync(0, Path.Combine(temp.Path, "no", "x.png")));
        Assert.Contains(Path.Combine(temp.Path, "no"), missing.Message);
    }

    private static string CopyOf(string source, string destination)
    {
        foreach (var dir in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, dir)));
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(destination, Path.GetRelativePath(source, file)));
        return destination;
    }

    private static void Truncate(string path, double keep)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.SetLength((long)(stream.Length * keep));
    }

    /// <summary>Every file and folder under <paramref name="root"/> (hidden ones too) with its size.</summary>
    private static List<string> Listing(string root) => Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
        .Select(p => $"{Path.GetRelativePath(root, p)}:{(File.Exists(p) ? new FileInfo(p).Length : -1)}").Order(StringComparer.Ordinal).ToList();

    private sealed class Sync<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>A stream over another that fails like a full disk once <c>capacity</c> bytes have been written.</summary>
    private sealed class DiskFullStream(Stream inner, long capacity) : Stream
    {
        private long written;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => written;
        public override long Position { get => written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var room = (int)Math.Min(buffer.Length, capacity - written);
            inner.Write(buffer[..room]);
            written += room;
            if (room < buffer.Length) throw new IOException("No space left on device");
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }
    }
}
