using Lumina.Models.Autoencoders;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Autoencoders;

/// <summary>
/// One tiled and untiled run of the golden tiny VAE (random weights, ×2 per axis) on a 40×112 latent (an 80×224
/// panorama strip), shared by the tiling tests. Tiles of 80 px (40 latent cells) with 25 % overlap give one row of four
/// tiles whose overlaps (the seam bands) are pixel columns [48, 80), [96, 128) and [144, 176).
/// </summary>
public sealed class TiledVaeRun : IDisposable
{
    public static readonly (int Start, int End)[] SeamBands = [(48, 80), (96, 128), (144, 176)];

    public TiledVaeRun()
    {
        var config = AutoencoderKLConfig.FromJson(Golden.Json("vae")["config"]!.ToJsonString(), "vae.json");
        Vae = new AutoencoderKL(config);
        Vae.LoadSafetensors(Golden.WeightsPath("vae"));
        Vae.eval();
        Latent = randn([1, 4, 40, 112], generator: new Generator(7));
        Untiled = Vae.Decode(Latent, VaeTilingOptions.Disabled);
        Tiled = Vae.Decode(Latent, Options(wholeImage: true), Progress);
        Independent = Vae.Decode(Latent, Options(wholeImage: false));
    }

    public AutoencoderKL Vae { get; }
    public Tensor Latent { get; }
    public Tensor Untiled { get; }
    public Tensor Tiled { get; }
    public Tensor Independent { get; }
    public List<(int Completed, int Total)> Reports { get; } = [];
    private IProgress<(int Completed, int Total)> Progress => new SyncProgress(Reports.Add);

    public static VaeTilingOptions Options(bool wholeImage) =>
        new() { Enabled = true, TileSize = 80, OverlapFraction = 0.25, WholeImageStatistics = wholeImage };

    public static bool InSeamBand(int column) => SeamBands.Any(b => column >= b.Start && column < b.End);

    public void Dispose()
    {
        Latent.Dispose();
        Untiled.Dispose();
        Tiled.Dispose();
        Independent.Dispose();
        Vae.Dispose();
    }

    private sealed class SyncProgress(Action<(int Completed, int Total)> report) : IProgress<(int Completed, int Total)>
    {
        public void Report((int Completed, int Total) value) => report(value);
    }
}

public sealed class AutoencoderKLTilingTests(TiledVaeRun run) : IClassFixture<TiledVaeRun>
{
    // Column profile of |tiled − untiled|: max and mean over batch, channels and rows.
    private static (float[] Max, float[] Mean) Profile(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var diff = (a - b).abs();
        return (diff.amax([0, 1, 2]).data<float>().ToArray(), diff.mean([0, 1, 2]).data<float>().ToArray());
    }

    /// <summary>
    /// The stated bound. With whole-image statistics (the default), |tiled − untiled| stays ≤ 0.04 outside the seam
    /// bands and ≤ 0.12 inside them, on a decode whose values reach about ±2.4 (measured: 0.021 and 0.078), and the
    /// mean error inside the bands is at least 1.5× the mean outside (measured 2.2×): the difference sits at the seams.
    /// </summary>
    [Fact]
    public void TiledDecodeDiffersFromUntiledMainlyNearSeamsWithinTheStatedBound()
    {
        Assert.Equal([1L, 3, 80, 224], run.Tiled.shape);
        var (max, mean) = Profile(run.Tiled, run.Untiled);
        var columns = Enumerable.Range(0, max.Length).ToArray();
        var outside = columns.Where(c => !TiledVaeRun.InSeamBand(c)).ToArray();
        var inside = columns.Where(TiledVaeRun.InSeamBand).ToArray();
        Assert.InRange(outside.Max(c => max[c]), 0f, 0.04f);
        Assert.InRange(inside.Max(c => max[c]), 0f, 0.12f);
        Assert.True(inside.Average(c => mean[c]) >= 1.5 * outside.Average(c => mean[c]),
            $"mean error in seam bands {inside.Average(c => mean[c]):F4} is not well above outside {outside.Average(c => mean[c]):F4}");
    }

    [Fact]
    public void WholeImageStatisticsBeatIndependentTiles()
    {
        var (wholeMax, wholeMean) = Profile(run.Tiled, run.Untiled);
        var (indepMax, indepMean) = Profile(run.Independent, run.Untiled);
        // Independent tiles (diffusers-style) shift everywhere because each tile normalises with its own statistics.
        Assert.True(indepMax.Max() > 1.5 * wholeMax.Max(), $"independent {indepMax.Max():F4} vs whole-image {wholeMax.Max():F4}");
        Assert.True(indepMean.Average() > 1.5 * wholeMean.Average(), $"independent {indepMean.Average():F4} vs whole-image {wholeMean.Average():F4}");
        var outside = Enumerable.Range(0, indepMax.Length).Where(c => !TiledVaeRun.InSeamBand(c));
        Assert.True(outside.Max(c => indepMax[c]) > 0.06f, "independent tiles were expected to differ away from seams too");
    }

    [Fact]
    public void ProgressCountsBothPassesOverFourTiles()
    {
        Assert.Equal(8, run.Reports.Count);
        Assert.All(run.Reports, r => Assert.Equal(8, r.Total));
        Assert.Equal(Enumerable.Range(1, 8), run.Reports.Select(r => r.Completed));
    }

    [Fact]
    public void OneTileCoveringTheImageReproducesTheUntiledDecode()
    {
        using var scope = NewDisposeScope();
        var z = run.Latent[.., .., ..20, ..24];
        var untiled = run.Vae.Decode(z, VaeTilingOptions.Disabled);
        var single = run.Vae.Decode(z, TiledVaeRun.Options(wholeImage: true) with { TileSize = 64 });
        TensorAssert.Close(untiled, single, what: "single-tile decode with whole-image statistics");
    }

    [Fact]
    public void TiledEncodeStaysCloseToUntiled()
    {
        using var scope = NewDisposeScope();
        var image = run.Untiled.clamp(-1, 1);
        using var untiled = run.Vae.Encode(image, VaeTilingOptions.Disabled);
        using var tiled = run.Vae.Encode(image, TiledVaeRun.Options(wholeImage: true));
        Assert.Equal(untiled.Mean.shape, tiled.Mean.shape);
        var diff = (tiled.Mean - untiled.Mean).abs();
        // Measured on this image: max 0.106, mean 0.0079, for means reaching ±2.4.
        Assert.InRange(diff.max().item<float>(), 0f, 0.16f);
        Assert.InRange(diff.mean().item<float>(), 0f, 0.012f);
    }

    [Fact]
    public void AutoModeTilesOnlyAboveTheThreshold()
    {
        using var scope = NewDisposeScope();
        var z = run.Latent[.., .., ..8, ..16];
        var reports = new List<(int Completed, int Total)>();
        var progress = new Progress(reports.Add);
        run.Vae.Decode(z, new VaeTilingOptions { TileSize = 16 }, progress);              // 16×32 px: below 1024²
        Assert.Equal([(1, 1)], reports);
        reports.Clear();
        run.Vae.Decode(z, new VaeTilingOptions { TileSize = 16, AutoThresholdPixels = 256, WholeImageStatistics = false }, progress);
        Assert.True(reports[^1].Total > 1, "a 16×32 image over a 256-pixel threshold should tile");
    }

    [Fact]
    public void CancellationStopsBetweenTiles()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => run.Vae.Decode(run.Latent, TiledVaeRun.Options(true), cancellationToken: cts.Token));
    }

    [Fact]
    public void TiledEncodeRejectsSizesTheLatentGridCannotSplit()
    {
        using var odd = zeros(1, 3, 33, 40);
        var e = Assert.Throws<ArgumentException>(() => run.Vae.Encode(odd, TiledVaeRun.Options(true)));
        Assert.Contains("33", e.Message);
    }

    private sealed class Progress(Action<(int Completed, int Total)> report) : IProgress<(int Completed, int Total)>
    {
        public void Report((int Completed, int Total) value) => report(value);
    }
}
