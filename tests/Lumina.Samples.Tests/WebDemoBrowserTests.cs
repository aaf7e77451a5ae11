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

    private static async Task<(IPlaywright, IBrowserContext, TempFolder)> LaunchAsync()
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

            // Someone else's much slower request is running (large enough that it cannot finish before the click, even
            // on an idle machine): the page shows that ours waits behind it.
            using var http = new HttpClient { BaseAddress = server.Address };
            using var other = await http.PostAsJsonAsync("/api/jobs", new { prompt = "someone else's request", width = 256, height = 256, steps = 100, seed = 1 });
            Assert.Equal(System.Net.HttpStatusCode.Accepted, other.StatusCode);
            await page.ClickAsync("#generate");
            await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Queued: 1 request ahead of yours");
            Directory.CreateDirectory(ArtifactsFolder);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsFolder, "webdemo-queued.png"), FullPage = true });
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

            await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^Error: This demo runs at most 100 steps"));
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
