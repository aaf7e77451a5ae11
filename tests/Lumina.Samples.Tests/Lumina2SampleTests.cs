using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lumina.Pipelines;
using Lumina.Solvers;
using Lumina.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Samples.Tests;

/// <summary>
/// Lumina-Image 2.0 in the sample apps: <c>lumina generate</c> and <c>lumina info</c> as child processes, and the web
/// demo over HTTP on 127.0.0.1, each on a tiny random model as a diffusers folder and as a ComfyUI single file with a
/// text-encoder/VAE folder.
/// </summary>
public sealed class Lumina2SampleTests(TinyLumina2 tiny) : IClassFixture<TinyLumina2>, IDisposable
{
    private readonly TempFolder _temp = new("lumina2-samples");

    public void Dispose() => _temp.Dispose();

    /// <summary>The model arguments of each layout.</summary>
    private string[] ModelArgs(string layout) => layout == "diffusers"
        ? ["--model", tiny.Diffusers]
        : ["--model", tiny.ComfyFile, "--text-encoder", tiny.Components, "--vae", tiny.Components];

    [Theory]
    [InlineData("diffusers")]
    [InlineData("single file")]
    public async Task GenerateWritesADecodablePngWithUpstreamsDefaults(string layout)
    {
        var output = _temp.File($"{layout.Replace(' ', '-')}.png");
        var run = await ProcessRun.LuminaAsync(["generate", "a lighthouse at dusk", .. ModelArgs(layout), "-o", output,
            "--width", "32", "--height", "32", "--steps", "2", "--seed", "9"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var image = Image.Load<Rgb24>(output);
        Assert.Equal((32, 32), (image.Width, image.Height));
        var metadata = GenerationMetadata.ReadFrom(image)!;
        // The family's defaults (upstream sample.sh): midpoint, shift 6 (the diffusers folder's scheduler says 6 too), cfg 4.
        Assert.Equal(("a lighthouse at dusk", OdeMethod.Midpoint, 6.0, 4.0, 9L), (metadata.Prompt, metadata.Solver, metadata.TimeShift, metadata.GuidanceScale, metadata.Seed));
    }

    [Fact]
    public async Task ThePresetAndSystemPromptOptionsAreAccepted_AndABadNameFailsBeforeLoading()
    {
        var output = _temp.File("demo.png");
        var run = await ProcessRun.LuminaAsync(["generate", "a cat", .. ModelArgs("single file"), "-o", output,
            "--width", "32", "--height", "32", "--steps", "2", "--seed", "1", "--preset", "lumina2-demo", "--system-prompt", "aesthetics", "--negative", "blurry"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        using (var image = Image.Load<Rgb24>(output))
            Assert.Equal((32, 32), (image.Width, image.Height));

        var bad = await ProcessRun.LuminaAsync(["generate", "a cat", .. ModelArgs("diffusers"), "-o", _temp.File("bad.png"), "--system-prompt", "photoreal"]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--system-prompt", bad.StdErr);
        Assert.Contains("real", bad.StdErr);
        Assert.False(File.Exists(_temp.File("bad.png")));
    }

    [Theory]
    [InlineData("diffusers")]
    [InlineData("single file")]
    public async Task InfoPrintsTheFamilyTheParameterCountAndTheDefaults(string layout)
    {
        var path = layout == "diffusers" ? tiny.Diffusers : tiny.ComfyFile;
        var run = await ProcessRun.LuminaAsync("info", path);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("family:     Unified Next-DiT (Lumina-Image 2.0) [lumina2]", run.StdOut);
        Assert.Contains("defaults:   midpoint 18 steps, shift 6, cfg 4 on all channels, renorm_cfg 1, system prompt \"real\"", run.StdOut);
        using var dit = new Models.DiT.Lumina2Transformer(TinyLumina2.DiT with { NormFinal = layout != "diffusers" }, new TorchSharp.torch.Device("meta"));
        var parameters = dit.parameters().Sum(p => p.numel());
        Assert.Contains($"parameters: {parameters.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)}", run.StdOut);
        Assert.Contains(layout == "diffusers" ? "key names:  diffusers" : "key names:  ComfyUI", run.StdOut);
    }

    [Theory]
    [InlineData("diffusers")]
    [InlineData("single file")]
    public async Task TheWebDemoServesAPng(string layout)
    {
        var args = ModelArgs(layout);
        await using var server = WebDemoServer.With(args[1], [.. args[2..], "--width", "32", "--height", "32", "--steps", "2"], new Dictionary<string, string?>());
        await server.InitializeAsync();
        {
            using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(120) };
            using var response = await http.PostAsJsonAsync("/api/generate", new { prompt = "a red bicycle", seed = 4 });
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync() + server.Output);
            var job = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("done", job.GetProperty("state").GetString());
            var png = Convert.FromBase64String(job.GetProperty("image").GetString()!);
            using var image = Image.Load<Rgb24>(png);
            Assert.Equal((32, 32), (image.Width, image.Height));
            Assert.Equal(4, GenerationMetadata.ReadFrom(image)!.Seed);
            Assert.Equal(png, await http.GetByteArrayAsync(job.GetProperty("imageUrl").GetString()));
        }
    }

    [Fact]
    public async Task TheWebDemoPageGeneratesWithASingleFileInTheBrowser()
    {
        var args = ModelArgs("single file");
        await using var server = WebDemoServer.With(args[1], [.. args[2..], "--width", "32", "--height", "32", "--steps", "2"], new Dictionary<string, string?>());
        await server.InitializeAsync();
        var (playwright, context, profile) = await WebDemoBrowserTests.LaunchAsync();
        try
        {
            var page = context.Pages.Count > 0 ? context.Pages[0] : await context.NewPageAsync();
            await page.GotoAsync(server.Address.ToString());
            await page.FillAsync("#prompt", "a red bicycle");
            await page.FillAsync("#seed", "3");
            await page.ClickAsync("#generate");
            await page.WaitForFunctionAsync(
                "() => { const i = document.querySelector('#result'); return i.dataset.job && i.complete && i.naturalWidth > 0; }",
                null, new Microsoft.Playwright.PageWaitForFunctionOptions { Timeout = 120_000 });
            var base64 = await page.EvaluateAsync<string>(
                "async () => { const r = await fetch(document.querySelector('#result').src); const b = new Uint8Array(await r.arrayBuffer()); let s = ''; for (const x of b) s += String.fromCharCode(x); return btoa(s); }");
            using var image = Image.Load<Rgb24>(Convert.FromBase64String(base64));
            Assert.Equal((32, 32), (image.Width, image.Height));
            Assert.Equal(3, GenerationMetadata.ReadFrom(image)!.Seed);
        }
        finally
        {
            await context.CloseAsync();
            playwright.Dispose();
            profile.Dispose();
        }
    }
}
