using System.Net.Http.Json;
using Lumina.Pipelines;
using Microsoft.Playwright;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Lumina.Testing;

namespace Lumina.Samples.Tests;

/// <summary>
/// Drives the web demo's page in Debian's headless Chromium through Playwright. Screenshots go to
/// <c>artifacts/</c> in the test output folder (tests/Lumina.Samples.Tests/bin/&lt;config&gt;/net10.0/artifacts/).
/// </summary>
[Collection(WebDemoCollection.Name)]
public sealed class WebDemoBrowserTests(WebDemoServer server)
{
    private const string Chromium = "/usr/bin/chromium";

    public static string ArtifactsFolder { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts");

    internal static async Task<(IPlaywright, IBrowserContext, TempFolder)> LaunchAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium (apt-get install -y chromium).");
        var profile = new TempFolder("lumina-chromium-profile");
        var playwright = await Playwright.CreateAsync();
        var context = await playwright.Chromium.LaunchPersistentContextAsync(profile.Path, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
            ViewportSize = new ViewportSize { Width = 1100, Height = 800 },
        });
        return (playwright, context, profile);
    }

    [Fact]
    public async Task TypeAPrompt_ClickGenerate_SeeTheImageAndItsSettings()
    {
        var (playwright, context, profile) = await LaunchAsync();
        try
        {
            var page = context.Pages.Count > 0 ? context.Pages[0] : await context.NewPageAsync();
            await page.GotoAsync(server.Address.ToString());
            await Assertions.Expect(page.Locator("#model")).ToHaveTextAsync(server.Model);
            await Assertions.Expect(page.Locator("#width")).ToHaveValueAsync("32");

            await page.FillAsync("#prompt", "a red circle on the left");
            await page.FillAsync("#seed", "7");

            // Someone else's request is running (one that cannot finish by itself): the page shows that ours waits
            // behind it. Then that one is cancelled, and ours runs.
            using var http = new HttpClient { BaseAddress = server.Address };
            using var other = await http.PostAsJsonAsync("/api/jobs", new { prompt = "someone else's request", width = WebDemoServer.LongSide, height = WebDemoServer.LongSide, steps = WebDemoServer.EndlessSteps, seed = 1 });
            Assert.Equal(System.Net.HttpStatusCode.Accepted, other.StatusCode);
            var otherId = (await other.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString();
            try
            {
                await page.ClickAsync("#generate");
                await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Queued: 1 request ahead of yours");
                await Assertions.Expect(page.Locator("#cancel")).ToBeVisibleAsync();
                Directory.CreateDirectory(ArtifactsFolder);
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsFolder, "webdemo-queued.png"), FullPage = true });
            }
            finally
            {
                (await http.PostAsync($"/api/jobs/{otherId}/cancel", null)).Dispose();
            }

            await page.WaitForFunctionAsync(
                "() => { const i = document.querySelector('#result'); return i.dataset.job && i.complete && i.naturalWidth > 0; }",
                null, new PageWaitForFunctionOptions { Timeout = 120_000 });

            // The bytes the browser shows, fetched by the page itself, decode as the requested PNG.
            var base64 = await page.EvaluateAsync<string>(
                "async () => { const r = await fetch(document.querySelector('#result').src); const b = new Uint8Array(await r.arrayBuffer()); let s = ''; for (const x of b) s += String.fromCharCode(x); return btoa(s); }");
            using var image = Image.Load<Rgb24>(Convert.FromBase64String(base64));
            Assert.Equal((32, 48), (image.Width, image.Height));
            Assert.Equal(("a red circle on the left", 7L), (GenerationMetadata.ReadFrom(image)!.Prompt, GenerationMetadata.ReadFrom(image)!.Seed));
            Assert.Equal(32, await page.EvaluateAsync<int>("() => document.querySelector('#result').naturalWidth"));
            await Assertions.Expect(page.Locator("#settings tr[data-key=seed] td").Nth(1)).ToHaveTextAsync("7");
            await Assertions.Expect(page.Locator("#settings tr[data-key=size] td").Nth(1)).ToHaveTextAsync("32 × 48");
            await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Done: seed 7");

            Directory.CreateDirectory(ArtifactsFolder);
            var shot = Path.Combine(ArtifactsFolder, "webdemo-generated.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
            using var screenshot = Image.Load<Rgb24>(shot);
            Assert.True(screenshot.Width >= 1000);
        }
        finally
        {
            await context.CloseAsync();
            playwright.Dispose();
            profile.Dispose();
        }
    }

    [Fact]
    public async Task TheCancelButton_StopsARunningJob()
    {
        var (playwright, context, profile) = await LaunchAsync();
        try
        {
            var page = context.Pages.Count > 0 ? context.Pages[0] : await context.NewPageAsync();
            await page.GotoAsync(server.Address.ToString());
            await Assertions.Expect(page.Locator("#width")).ToHaveValueAsync("32");
            await Assertions.Expect(page.Locator("#cancel")).ToBeHiddenAsync();
            await page.FillAsync("#prompt", "a job that would take long");
            await page.FillAsync("#width", WebDemoServer.LongSide.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await page.FillAsync("#height", WebDemoServer.LongSide.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await page.FillAsync("#steps", WebDemoServer.EndlessSteps.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await page.ClickAsync("#generate");
            await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^Generating: step \\d+ of 1000$"));

            await page.ClickAsync("#cancel");

            await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Cancelled");
            await Assertions.Expect(page.Locator("#cancel")).ToBeHiddenAsync();
            await Assertions.Expect(page.Locator("#generate")).ToBeEnabledAsync();
            using var http = new HttpClient { BaseAddress = server.Address };
            Assert.Equal(0, (await http.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/info")).GetProperty("queueLength").GetInt32());
        }
        finally
        {
            await context.CloseAsync();
            playwright.Dispose();
            profile.Dispose();
        }
    }

    /// <summary>
    /// A Hub model whose download is held open: the page says it is downloading (not "Reading the prompt"), and once the
    /// model has loaded the form fills in with the model's own defaults (no --width/--height/--steps given).
    /// </summary>
    [Fact]
    public async Task WhileTheModelDownloads_ThePageSaysSo_ThenFillsInTheModelsDefaults()
    {
        await using var hub = await FakeHub.StartAsync();
        hub.AddFolder("lumina-test/tiny-next", server.TinyModelFolder);
        hub.HoldBodies = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cache = new TempFolder("lumina-webdemo-hub");
        await using var slow = WebDemoServer.With("lumina-test/tiny-next", [], new Dictionary<string, string?>
        {
            ["HF_ENDPOINT"] = hub.Endpoint.ToString().TrimEnd('/'),
            ["HF_HUB_CACHE"] = Path.Combine(cache.Path, "hub"),
            ["HF_HOME"] = Path.Combine(cache.Path, "hf-home"),
        });
        await slow.InitializeAsync();
        var (playwright, context, profile) = await LaunchAsync();
        try
        {
            var page = context.Pages.Count > 0 ? context.Pages[0] : await context.NewPageAsync();
            await page.GotoAsync(slow.Address.ToString());
            await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^Downloading the model"));
            await Assertions.Expect(page.Locator("#width")).ToHaveValueAsync("");

            // A request made now waits for the model, and says so.
            await page.FillAsync("#prompt", "a red circle");
            await page.ClickAsync("#generate");
            await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(Downloading|Loading) the model"));
            await Assertions.Expect(page.Locator("#status")).Not.ToHaveTextAsync("Reading the prompt");
            Directory.CreateDirectory(ArtifactsFolder);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsFolder, "webdemo-downloading.png"), FullPage = true });

            hub.HoldBodies.SetResult();
            using var http = new HttpClient { BaseAddress = slow.Address };
            var info = await http.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/info");
            for (var i = 0; i < 600 && info.GetProperty("state").GetString() != "ready"; i++)
            {
                await Task.Delay(100);
                info = await http.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/info");
            }

            Assert.Equal("ready", info.GetProperty("state").GetString());
            var width = info.GetProperty("width").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Assertions.Expect(page.Locator("#width")).ToHaveValueAsync(width);
            await Assertions.Expect(page.Locator("#steps")).ToHaveValueAsync(info.GetProperty("steps").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(Done: seed|Generating|Decoding|Reading)"));
        }
        finally
        {
            hub.HoldBodies.TrySetResult();
            await context.CloseAsync();
            playwright.Dispose();
            profile.Dispose();
        }
    }

    [Fact]
    public async Task ARefusedRequest_ShowsTheServersReason()
    {
        var (playwright, context, profile) = await LaunchAsync();
        try
        {
            var page = context.Pages.Count > 0 ? context.Pages[0] : await context.NewPageAsync();
            await page.GotoAsync(server.Address.ToString());
            await Assertions.Expect(page.Locator("#width")).ToHaveValueAsync("32");
            await page.FillAsync("#prompt", "too many steps");
            await page.FillAsync("#steps", "5000");
            await page.ClickAsync("#generate");

            await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^Error: This demo runs at most 1000 steps"));
            await Assertions.Expect(page.Locator("#status")).ToHaveClassAsync("error");
            Directory.CreateDirectory(ArtifactsFolder);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsFolder, "webdemo-refused.png"), FullPage = true });
        }
        finally
        {
            await context.CloseAsync();
            playwright.Dispose();
            profile.Dispose();
        }
    }
}
