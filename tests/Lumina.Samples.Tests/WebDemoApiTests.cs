using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lumina.Pipelines;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Samples.Tests;

/// <summary>The web demo's JSON API, over HTTP against the running process.</summary>
[Collection(WebDemoCollection.Name)]
public sealed class WebDemoApiTests(WebDemoServer server)
{
    private HttpClient Client() => new() { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task Generate_AnswersWithAPngAndItsSettings()
    {
        using var http = Client();
        using var response = await http.PostAsJsonAsync("/api/generate", new { prompt = "a green triangle at the top", seed = 5 });

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync() + server.Output);
        var job = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("done", job.GetProperty("state").GetString());
        var png = Convert.FromBase64String(job.GetProperty("image").GetString()!);
        using var image = Image.Load<Rgb24>(png);
        Assert.Equal((32, 48), (image.Width, image.Height));
        Assert.Equal(5, GenerationMetadata.ReadFrom(image)!.Seed);
        var settings = job.GetProperty("settings");
        Assert.Equal("a green triangle at the top", settings.GetProperty("prompt").GetString());
        Assert.Equal(5, settings.GetProperty("seed").GetInt64());
        Assert.Equal(2, settings.GetProperty("steps").GetInt32());

        // The same image is served at the job's URL.
        Assert.Equal(png, await http.GetByteArrayAsync(job.GetProperty("imageUrl").GetString()));
    }

    [Theory]
    [InlineData("""{"prompt": "x", "width": 1000}""", "Width")]
    [InlineData("""{"prompt": "x", "steps": 0}""", "NumInferenceSteps")]
    [InlineData("""{"prompt": "x", "steps": 5000}""", "steps")]
    [InlineData("""{"prompt": "  "}""", "prompt")]
    public async Task BadRequests_Get400NamingTheField(string body, string field)
    {
        using var http = Client();
        using var response = await http.PostAsync("/api/generate", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Jobs_AreQueuedOneAtATime_WithTheirPositions()
    {
        using var http = Client();
        // A first job that cannot finish by itself keeps the others waiting behind it until it is cancelled.
        var bodies = new object[]
        {
            new { prompt = "an endless one", width = WebDemoServer.LongSide, height = WebDemoServer.LongSide, steps = WebDemoServer.EndlessSteps, seed = 1 },
            new { prompt = "second", seed = 2 },
            new { prompt = "third", seed = 3 },
        };
        var jobs = new List<JsonElement>();
        foreach (var body in bodies)
            jobs.Add(await SubmitAsync(http, body));
        var ids = jobs.Select(j => j.GetProperty("id").GetString()!).ToList();
        try
        {
            Assert.Equal([0, 1, 2], jobs.Select(j => j.GetProperty("position").GetInt32()));
            var first = await WaitAsync(http, ids[0], j => j.GetProperty("state").GetString() == "running" && j.GetProperty("step").GetInt32() > 0);
            Assert.Equal(WebDemoServer.EndlessSteps, first.GetProperty("totalSteps").GetInt32());
            Assert.Equal("sampling", first.GetProperty("stage").GetString());
            Assert.Equal(new[] { 1, 2 }, await Task.WhenAll(ids.Skip(1).Select(async id => (await http.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}")).GetProperty("position").GetInt32())));
        }
        finally
        {
            (await http.PostAsync($"/api/jobs/{ids[0]}/cancel", null)).Dispose();
        }

        var finishedOrder = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (finishedOrder.Count < 3 && DateTime.UtcNow < deadline)
        {
            foreach (var id in ids.Except(finishedOrder).ToList())
            {
                var state = (await http.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}")).GetProperty("state").GetString();
                if (state is "done" or "failed" or "cancelled")
                {
                    Assert.Equal(id == ids[0] ? "cancelled" : "done", state);
                    finishedOrder.Add(id);
                }
            }

            await Task.Delay(50);
        }

        Assert.Equal(ids, finishedOrder);
    }

    [Fact]
    public async Task Info_GivesTheDefaultsAndLimits_SoTheFormStartsFilled()
    {
        using var http = Client();
        var info = await http.GetFromJsonAsync<JsonElement>("/api/info");

        Assert.Equal("ready", info.GetProperty("state").GetString());
        Assert.Equal((32, 48, 2), (info.GetProperty("width").GetInt32(), info.GetProperty("height").GetInt32(), info.GetProperty("steps").GetInt32()));
        Assert.Equal(4, info.GetProperty("sizeMultiple").GetInt32()); // the tiny model: VAE ×2, patch 2
        Assert.Equal(1024, info.GetProperty("maxTokens").GetInt32());
    }

    [Theory]
    [InlineData("""{"prompt": "x", "width": 1024}""", "width")]                // 1024×48 (the default height) = 256×12 tokens
    [InlineData("""{"prompt": "x", "height": 1024}""", "height")]              // 32×1024 = 8×256 tokens
    [InlineData("""{"prompt": "x", "width": 144, "height": 128}""", "width")]  // 36×32 tokens
    public async Task TheSizeLimit_IsInTheModelsTokens_AfterTheDefaultsAreFilledIn(string body, string field)
    {
        using var http = Client();
        foreach (var path in new[] { "/api/jobs", "/api/generate" })
        {
            using var response = await http.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(field, error.GetProperty("field").GetString());
            Assert.Contains("at most 1024 tokens", error.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task TheLargestSizeWithinTheTokenLimit_IsAccepted()
    {
        using var http = Client();
        var job = await SubmitAsync(http, new { prompt = "x", width = WebDemoServer.LongSide, height = WebDemoServer.LongSide, steps = WebDemoServer.EndlessSteps }); // 32×32 = 1024 tokens
        var id = job.GetProperty("id").GetString()!;
        using var cancel = await http.PostAsync($"/api/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("cancelled", (await WaitAsync(http, id, j => j.GetProperty("state").GetString() != "queued" && j.GetProperty("state").GetString() != "running")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Cancel_StopsARunningJob_RemovesAWaitingOne_AndRefusesAFinishedOne()
    {
        using var http = Client();
        var running = (await SubmitAsync(http, new { prompt = "endless", width = WebDemoServer.LongSide, height = WebDemoServer.LongSide, steps = WebDemoServer.EndlessSteps })).GetProperty("id").GetString()!;
        var waiting = (await SubmitAsync(http, new { prompt = "waiting", seed = 1 })).GetProperty("id").GetString()!;
        await WaitAsync(http, running, j => j.GetProperty("step").GetInt32() > 0);

        using (var response = await http.PostAsync($"/api/jobs/{waiting}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("cancelled", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        }

        using (var response = await http.PostAsync($"/api/jobs/{running}/cancel", null))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stopped = await WaitAsync(http, running, j => j.GetProperty("state").GetString() == "cancelled");
        Assert.True(stopped.GetProperty("step").GetInt32() < WebDemoServer.EndlessSteps);
        Assert.Equal(0, (await http.GetFromJsonAsync<JsonElement>("/api/info")).GetProperty("queueLength").GetInt32());

        using (var again = await http.PostAsync($"/api/jobs/{running}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Equal("id", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }

        using var unknown = await http.PostAsync("/api/jobs/nope/cancel", null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task AClientThatDisconnects_CancelsItsGenerateJob()
    {
        using var http = Client();
        using (var gone = new CancellationTokenSource())
        {
            var call = http.PostAsJsonAsync("/api/generate", new { prompt = "nobody waits for this", width = WebDemoServer.LongSide, height = WebDemoServer.LongSide, steps = WebDemoServer.EndlessSteps }, gone.Token);
            await WaitUntilAsync(http, info => info.GetProperty("queueLength").GetInt32() == 1);
            gone.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        }

        // The endless job is gone (it would otherwise run for many minutes), and the next request runs at once.
        await WaitUntilAsync(http, info => info.GetProperty("queueLength").GetInt32() == 0);
        using var next = await http.PostAsJsonAsync("/api/generate", new { prompt = "next", seed = 3 });
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task FinishedJobs_AreKeptUpToTheLimit_ThenForgottenOldestFirst()
    {
        using var http = Client();
        var ids = new List<string>();
        for (var i = 0; i < 9; i++) // the server keeps 8
        {
            using var response = await http.PostAsJsonAsync("/api/generate", new { prompt = $"job {i}", seed = i });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var job = await response.Content.ReadFromJsonAsync<JsonElement>();
            ids.Add(job.GetProperty("id").GetString()!);
        }

        using (var oldest = await http.GetAsync($"/api/jobs/{ids[0]}"))
            Assert.Equal(HttpStatusCode.NotFound, oldest.StatusCode);
        using (var image = await http.GetAsync($"/api/jobs/{ids[0]}/image"))
            Assert.Equal(HttpStatusCode.NotFound, image.StatusCode);
        foreach (var id in ids.Skip(1))
            Assert.Equal("done", (await http.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task TheDemoModel_AnswersWithWarnings_ForUnknownWordsAndOtherSizes()
    {
        await using var demo = WebDemoServer.With(Lumina.Testing.RepositoryFiles.DemoModel, [], new Dictionary<string, string?>());
        await demo.InitializeAsync();
        using var http = new HttpClient { BaseAddress = demo.Address, Timeout = TimeSpan.FromSeconds(60) };

        using var response = await http.PostAsJsonAsync("/api/generate", new { prompt = "A Magenta circle", width = 64, height = 64, steps = 2, seed = 1 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var job = await response.Content.ReadFromJsonAsync<JsonElement>();
        var warnings = job.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains("'magenta'", warnings[0]);
        Assert.Contains("32×32", warnings[1]);
        Assert.Equal("a magenta circle", job.GetProperty("settings").GetProperty("prompt").GetString());
        var info = await http.GetFromJsonAsync<JsonElement>("/api/info");
        Assert.Equal((32, 32), (info.GetProperty("width").GetInt32(), info.GetProperty("height").GetInt32())); // the model's own defaults
    }

    private static async Task<JsonElement> SubmitAsync(HttpClient http, object body)
    {
        using var response = await http.PostAsJsonAsync("/api/jobs", body);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<JsonElement> WaitAsync(HttpClient http, string id, Func<JsonElement, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var job = await http.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}");
            if (until(job))
                return job;
            Assert.True(DateTime.UtcNow < deadline, $"job {id} is still {job}");
            await Task.Delay(50);
        }
    }

    private static async Task WaitUntilAsync(HttpClient http, Func<JsonElement, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var info = await http.GetFromJsonAsync<JsonElement>("/api/info");
            if (until(info))
                return;
            Assert.True(DateTime.UtcNow < deadline, $"the server is still {info}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task UnknownJob_Is404()
    {
        using var http = Client();
        using var response = await http.GetAsync("/api/jobs/nope");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
