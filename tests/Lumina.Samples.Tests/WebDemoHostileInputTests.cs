using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Lumina.Samples.Tests;

/// <summary>The web demo against malformed and hostile requests, over HTTP on 127.0.0.1 (issue 18).</summary>
[Collection(WebDemoCollection.Name)]
public sealed class WebDemoHostileInputTests(WebDemoServer server)
{
    private HttpClient Client() => new() { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(60) };

    [Theory]
    [InlineData("""{"prompt":5}""", "prompt")]
    [InlineData("""{"prompt":"x","seed":1e30}""", "seed")]
    [InlineData("""{"prompt":"x","width":64.5}""", "width")]
    [InlineData("""{"prompt":"x","steps":"ten"}""", "steps")]
    [InlineData("""{"prompt":"x",""", null)]
    [InlineData("null", null)]
    [InlineData("[]", null)]
    [InlineData("", null)]
    [InlineData("not json", null)]
    public async Task MalformedBodies_Get400WithTheErrorJson(string body, string? field)
    {
        using var http = Client();
        foreach (var path in new[] { "/api/generate", "/api/jobs" })
        {
            using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("error").GetString()));
            Assert.Equal(field, error.GetProperty("field").ValueKind == JsonValueKind.Null ? null : error.GetProperty("field").GetString());
        }
    }

    [Fact]
    public async Task AHugePrompt_IsRefused()
    {
        using var http = Client();
        using var response = await http.PostAsJsonAsync("/api/jobs", new { prompt = new string('a', 1_000_000) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("attacker.test:80")]
    public async Task AForeignHostHeader_IsRefused_SoDnsRebindingCannotReachTheDemo(string host)
    {
        using var http = Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info");
        request.Headers.Host = host;
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Host", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());

        using var local = new HttpRequestMessage(HttpMethod.Get, "/api/info");
        local.Headers.Host = $"localhost:{server.Address.Port}";
        using var ok = await http.SendAsync(local);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task FiveHundredHostileBodies_EachGetA4xxWithJson_AndMemoryStaysFlat()
    {
        using var http = Client();
        // Warm up the paths measured, so first-use allocations are not counted as growth.
        foreach (var warm in Bodies().Take(20))
            (await http.PostAsync("/api/jobs", new StringContent(warm, Encoding.UTF8, "application/json"))).Dispose();
        var before = server.ResidentBytes();

        var count = 0;
        foreach (var body in Bodies())
        {
            var path = count % 2 == 0 ? "/api/jobs" : "/api/generate";
            using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            var status = (int)response.StatusCode;
            Assert.True(status is >= 400 and < 500, $"{path} {body[..Math.Min(80, body.Length)]} → {status}");
            var json = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(JsonValueKind.String, json.GetProperty("error").ValueKind);
            count++;
        }

        var after = server.ResidentBytes();
        Assert.True(count >= 500, $"{count} bodies");
        Assert.True(after <= before * 1.10, $"RSS grew from {before / 1e6:F0} MB to {after / 1e6:F0} MB over {count} bodies");
    }

    /// <summary>Malformed or hostile bodies, each invalid in one way (deterministic).</summary>
    private static IEnumerable<string> Bodies()
    {
        var random = new Random(18);
        string[] fixedOnes =
        [
            "", "null", "[]", "{}", "true", "5", "\"x\"", "{", "}", "{\"prompt\":", "{\"prompt\":\"x\"", "{\"prompt\":5}", "{\"prompt\":[]}",
            "{\"prompt\":{}}", "{\"prompt\":\"x\",\"seed\":1e30}", "{\"prompt\":\"x\",\"width\":64.5}", "{\"prompt\":\"x\",\"width\":-16}",
            "{\"prompt\":\"x\",\"height\":99999999999}", "{\"prompt\":\"x\",\"steps\":-1}", "{\"prompt\":\"x\",\"steps\":1e9}", "{\"prompt\":\"   \"}",
            "{\"prompt\":\"x\",\"width\":\"32\"}", "{\"prompt\":\"x\",\"seed\":\"7\"}", "{\"prompt\":\"x\",\"width\":0}", "{\"prompt\":\"x\",\"steps\":5000}",
            new string('[', 5000), "{\"prompt\":\"" + new string('a', 20_000) + "\"}", "\u0000\u0001\u0002", "{\"prompt\":\"\\ud800\"",
        ];
        foreach (var body in fixedOnes)
            yield return body;
        string[] fields = ["width", "height", "steps", "seed"];
        string[] badValues = ["1.5", "-3", "1e400", "\"abc\"", "[]", "{}", "true", "99999999999999999999", "-0.0001", "0"];
        for (var i = fixedOnes.Length; i < 520; i++)
        {
            var field = fields[random.Next(fields.Length)];
            var value = badValues[random.Next(badValues.Length)];
            if (field == "seed" && value is "-3" or "0")
                value = "1.5"; // valid seeds are whole numbers of any sign
            yield return (i % 3) switch
            {
                0 => $"{{\"prompt\":\"x\",\"{field}\":{value}}}",
                1 => $"{{\"prompt\":\"x\",\"{field}\":{value}",                  // truncated
                _ => $"{{\"prompt\":{random.Next()},\"{field}\":{value}}}",       // prompt of the wrong type
            };
        }
    }

    [Fact]
    public async Task APortInUse_IsOneLineSuggestingPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var run = await ProcessRun.DotnetAsync(SampleApps.WebDemo, ["--model", server.Model, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Production" });

        Assert.True(run.ExitCode == 1, run.ToString());
        var line = Assert.Single(run.ErrorLines);
        Assert.Contains($"port {port}", line);
        Assert.Contains("--port", line);
        Assert.DoesNotContain("   at ", run.StdErr + run.StdOut);
    }
}
