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
        // A longer first job keeps the others waiting behind it.
        var bodies = new object[]
        {
            new { prompt = "a slower one", width = 128, height = 128, steps = 60, seed = 1 },
            new { prompt = "second", seed = 2 },
            new { prompt = "third", seed = 3 },
        };
        var jobs = new List<JsonElement>();
        foreach (var body in bodies)
        {
            using var response = await http.PostAsJsonAsync("/api/jobs", body);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            jobs.Add(await response.Content.ReadFromJsonAsync<JsonElement>());
        }

        Assert.Equal([0, 1, 2], jobs.Select(j => j.GetProperty("position").GetInt32()));
        var finishedOrder = new List<string>();
        var sawProgress = false;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (finishedOrder.Count < 3 && DateTime.UtcNow < deadline)
        {
            foreach (var id in jobs.Select(j => j.GetProperty("id").GetString()!).Except(finishedOrder).ToList())
            {
                var state = await http.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}");
                sawProgress |= state.GetProperty("state").GetString() == "running" && state.GetProperty("totalSteps").GetInt32() > 0;
                if (state.GetProperty("state").GetString() is "done" or "failed")
                {
                    Assert.Equal("done", state.GetProperty("state").GetString());
                    finishedOrder.Add(id);
                }
            }

            await Task.Delay(50);
        }

        Assert.Equal(jobs.Select(j => j.GetProperty("id").GetString()!), finishedOrder);
        Assert.True(sawProgress, "a running job should report its step and total");
    }

    [Fact]
    public async Task UnknownJob_Is404()
    {
        using var http = Client();
        using var response = await http.GetAsync("/api/jobs/nope");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
