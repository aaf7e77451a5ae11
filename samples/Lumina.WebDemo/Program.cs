using System.Net;
using Lumina.DependencyInjection;
using Lumina.WebDemo;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

// Usage: dotnet run --project samples/Lumina.WebDemo -- [--model <folder or org/name>] [--port 5080] [--width 512 --height 512 --steps 30] [--threads N]
// Without --model it serves the bundled demo model (32×32 coloured shapes).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var model = builder.Configuration["model"] is { Length: > 0 } given ? given : Path.Combine(AppContext.BaseDirectory, "models", "lumina-demo");

var port = builder.Configuration.GetValue("port", 5080);

// Loopback only: this demo has no authentication.
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
builder.Services.Configure<DemoDefaults>(builder.Configuration);
// A Hub id is downloaded (only the files its layout needs) into the huggingface_hub cache on first use.
var threads = builder.Configuration.GetValue<int?>("threads");
builder.Services.AddLumina(o => o.Threads = threads).AddTextToImage(o => o.Model = model);
builder.Services.AddSingleton<GenerationQueue>();
builder.Services.AddHostedService<GenerationWorker>();

var app = builder.Build();
var page = ReadPage();

app.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8"));

app.MapGet("/api/info", (GenerationQueue queue, Microsoft.Extensions.Options.IOptions<DemoDefaults> defaults) =>
    Results.Ok(new { model, defaults.Value.Width, defaults.Value.Height, defaults.Value.Steps, queueLength = queue.Length }));

// Queue a request; poll GET /api/jobs/{id} for its position and progress.
app.MapPost("/api/jobs", (DemoRequest body, GenerationQueue queue, Microsoft.Extensions.Options.IOptions<DemoDefaults> defaults) =>
    Submit(body, queue, defaults.Value, job => Results.Accepted($"/api/jobs/{job.Id}", JobView.Of(job, queue))));

app.MapGet("/api/jobs/{id}", (string id, GenerationQueue queue) =>
    queue.Find(id) is { } job ? Results.Ok(JobView.Of(job, queue)) : Results.NotFound(new { error = $"No job '{id}'." }));

app.MapGet("/api/jobs/{id}/image", (string id, GenerationQueue queue) =>
    queue.Find(id) is { Png: { } png } ? Results.File(png, "image/png") : Results.NotFound(new { error = $"Job '{id}' has no image (yet)." }));

// The same in one call: queue, wait, and answer with the PNG (base64) and its settings.
app.MapPost("/api/generate", async (DemoRequest body, GenerationQueue queue, Microsoft.Extensions.Options.IOptions<DemoDefaults> defaults, CancellationToken ct) =>
{
    GenerationJob? queued = null;
    var early = Submit(body, queue, defaults.Value, job =>
    {
        queued = job;
        return Results.Empty;
    });
    if (queued is null)
        return early;
    await queued.Finished.WaitAsync(ct);
    return queued.State == JobState.Done
        ? Results.Ok(JobView.Of(queued, queue, withImage: true))
        : Results.Json(JobView.Of(queued, queue), statusCode: StatusCodes.Status500InternalServerError);
});

await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
Console.WriteLine($"Lumina web demo ({model}) listening on {address}");
await app.WaitForShutdownAsync();
return 0;

static IResult Submit(DemoRequest body, GenerationQueue queue, DemoDefaults defaults, Func<GenerationJob, IResult> accepted)
{
    try
    {
        return accepted(queue.Enqueue(new GenerationJob(body.ToPipelineRequest(defaults))));
    }
    catch (ArgumentException e)
    {
        return Results.BadRequest(new { error = e.Message.Split('\n')[0], field = e.ParamName });
    }
    catch (QueueFullException e)
    {
        return Results.Json(new { error = e.Message }, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

static string ReadPage()
{
    using var stream = typeof(GenerationQueue).Assembly.GetManifestResourceStream("index.html")!;
    using var reader = new StreamReader(stream);
    return reader.ReadToEnd();
}
