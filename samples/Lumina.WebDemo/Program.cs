using System.Net;
using Lumina.DependencyInjection;
using Lumina.WebDemo;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

// Usage: dotnet run --project samples/Lumina.WebDemo -- [--model <folder, single file or org/name>] [--text-encoder X --vae Y] [--port 5080] [--width 512 --height 512 --steps 30] [--threads N]
// Without --model it serves the bundled demo model (32×32 coloured shapes).
// Before anything touches TorchSharp: libgomp reads OMP_WAIT_POLICY once, when libtorch loads (a value the user set wins).
Lumina.OpenMpDefaults.UsePassiveWaitUnlessSet();
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var model = builder.Configuration["model"] is { Length: > 0 } given ? given : Lumina.Models.DemoModel.Path;

var port = builder.Configuration.GetValue("port", 5080);

// Loopback only: this demo has no authentication.
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
builder.Services.Configure<DemoDefaults>(builder.Configuration);
// Each poll would log about a dozen request lines at Information; they belong at Debug.
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
// A failed start (a port in use) is reported below in one line; the host's own error log would add a stack trace.
builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
// Host names this server answers to: loopback only (a DNS-rebinding page cannot reach it), unless --AllowedHosts a;b is given.
var allowedHosts = (builder.Configuration["AllowedHosts"] is { Length: > 0 } configured && configured != "*" ? configured : "localhost;127.0.0.1;[::1]")
    .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
// A Hub id is downloaded (only the files its layout needs) into the huggingface_hub cache on first use.
var threads = builder.Configuration.GetValue<int?>("threads");
// A single-file checkpoint (a ComfyUI Lumina-Image 2.0 file) takes its text encoder and VAE from --text-encoder / --vae
// (folders, Hub ids, or a diffusers folder/repo holding them), else from its family's repo.
var textEncoder = builder.Configuration["text-encoder"] is { Length: > 0 } te ? te : null;
var vae = builder.Configuration["vae"] is { Length: > 0 } v ? v : null;
builder.Services.AddLumina(o => o.Threads = threads).AddTextToImage(o =>
{
    o.Model = model;
    o.TextEncoder = textEncoder;
    o.Vae = vae;
});
builder.Services.AddSingleton<ModelStatus>();
// Hub ids go through this resolver (local folders never do), so the page can show "downloading" while they download.
builder.Services.AddSingleton<Lumina.Pipelines.ModelResolver>(sp =>
{
    var status = sp.GetRequiredService<ModelStatus>();
    var hub = Lumina.Pipelines.HubModelResolver.Create(sp.GetRequiredService<Lumina.Hub.HubClient>(), preferEma: true, status.DownloadProgress);
    return async (reference, component, cancellationToken) =>
    {
        status.SetDownloading(true);
        try
        {
            return await hub(reference, component, cancellationToken);
        }
        finally
        {
            status.SetDownloading(false);
        }
    };
});
builder.Services.AddSingleton<GenerationQueue>();
builder.Services.AddHostedService<ModelWarmup>();
builder.Services.AddHostedService<GenerationWorker>();

var app = builder.Build();
var page = ReadPage();

app.Use(async (context, next) =>
{
    var host = context.Request.Host.Host;
    if (!allowedHosts.Contains(host, StringComparer.OrdinalIgnoreCase))
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await context.Response.WriteAsJsonAsync(new { error = $"Host '{host}' is not allowed; this demo answers to {string.Join(", ", allowedHosts)} (set --AllowedHosts to change).", field = "Host" });
        return;
    }

    await next(context);
});

app.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8"));

// The model, its state, and the settings a request without them gets (null only until the model has loaded).
app.MapGet("/api/info", (GenerationQueue queue, ModelStatus status, Microsoft.Extensions.Options.IOptions<DemoDefaults> options) =>
{
    var (d, limits) = (options.Value, status.Limits);
    return Results.Ok(new
    {
        model,
        state = status.State.ToString().ToLowerInvariant(),
        error = status.State == ModelState.Failed ? status.Error : null,
        download = status.Download is { } p ? new { file = p.File, bytes = p.BytesDownloaded, totalBytes = p.TotalBytes } : null,
        width = d.Width ?? limits?.Width,
        height = d.Height ?? limits?.Height,
        steps = d.Steps ?? limits?.Steps,
        sizeMultiple = limits?.SizeMultiple,
        maxTokens = d.MaxTokens,
        maxSteps = d.MaxSteps,
        queueLength = queue.Length,
    });
});

// Queue a request; poll GET /api/jobs/{id} for its position and progress.
app.MapPost("/api/jobs", async (HttpRequest http, GenerationQueue queue, ModelStatus status, Microsoft.Extensions.Options.IOptions<DemoDefaults> defaults, CancellationToken ct) =>
{
    var (body, rejected) = await ReadBodyAsync(http, ct);
    if (rejected is not null)
        return rejected;

    return Submit(body!, queue, status, defaults.Value, job => Results.Accepted($"/api/jobs/{job.Id}", JobView.Of(job, queue, status)));
});

app.MapGet("/api/jobs/{id}", (string id, GenerationQueue queue, ModelStatus status) =>
    queue.Find(id) is { } job ? Results.Ok(JobView.Of(job, queue, status)) : Results.NotFound(new { error = $"No job '{id}'.", field = "id" }));

// Cancel a waiting or running job: 200 with the job (a running one becomes "cancelled" at its next model call).
app.MapPost("/api/jobs/{id}/cancel", (string id, GenerationQueue queue, ModelStatus status) =>
{
    if (queue.Find(id) is not { } job)
        return Results.NotFound(new { error = $"No job '{id}'.", field = "id" });
    return queue.Cancel(job)
        ? Results.Ok(JobView.Of(job, queue, status))
        : Results.Conflict(new { error = $"Job '{id}' has already finished ({job.State.ToString().ToLowerInvariant()}).", field = "id" });
});

app.MapGet("/api/jobs/{id}/image", (string id, GenerationQueue queue) =>
    queue.Find(id) is { Png: { } png } ? Results.File(png, "image/png") : Results.NotFound(new { error = $"Job '{id}' has no image (yet).", field = "id" }));

// The same in one call: queue, wait, and answer with the PNG (base64) and its settings. A client that goes away
// cancels its job. This call waits for the model, so the model's limits are checked before it answers.
app.MapPost("/api/generate", async (HttpRequest http, GenerationQueue queue, ModelStatus status, ILuminaPipelines pipelines,
    Microsoft.Extensions.Options.IOptions<DemoDefaults> defaults, CancellationToken ct) =>
{
    var (body, rejected) = await ReadBodyAsync(http, ct);
    if (rejected is not null)
        return rejected;

    try
    {
        await status.GetPipelineAsync(pipelines, ct);
    }
    catch (Exception e) when (e is not OperationCanceledException)
    {
        return Results.Json(new { error = $"The model did not load: {e.Message.Split('\n')[0]}", field = (string?)null }, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    GenerationJob? queued = null;
    var early = Submit(body!, queue, status, defaults.Value, job =>
    {
        queued = job;
        return Results.Empty;
    });
    if (queued is null)
        return early;
    try
    {
        await queued.Finished.WaitAsync(ct);
    }
    catch (OperationCanceledException)
    {
        queue.Cancel(queued); // the client disconnected: nobody will read this image
        return Results.Empty;
    }

    return queued.State switch
    {
        JobState.Done => Results.Ok(JobView.Of(queued, queue, status, withImage: true)),
        JobState.Failed when queued.Field is not null => Results.BadRequest(new { error = queued.Error, field = queued.Field }),
        JobState.Cancelled => Results.Json(JobView.Of(queued, queue, status), statusCode: StatusCodes.Status409Conflict),
        _ => Results.Json(JobView.Of(queued, queue, status), statusCode: StatusCodes.Status500InternalServerError),
    };
});

try
{
    await app.StartAsync();
}
catch (Exception e) when (AddressInUse(e))
{
    Console.Error.WriteLine($"error: port {port} on 127.0.0.1 is already in use; start with --port <another port> (--port 0 picks a free one).");
    return 1;
}

var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
Console.WriteLine($"Lumina web demo ({model}) listening on {address}");
await app.WaitForShutdownAsync();
return 0;

static IResult Submit(DemoRequest body, GenerationQueue queue, ModelStatus status, DemoDefaults defaults, Func<GenerationJob, IResult> accepted)
{
    try
    {
        // Validated now as far as is known (all of it once the model has loaded); the worker checks again.
        body.ToPipelineRequest(defaults, status.Limits);
        return accepted(queue.Enqueue(new GenerationJob(body)));
    }
    catch (ArgumentException e)
    {
        return Results.BadRequest(new { error = RequestErrors.Message(e), field = e.ParamName });
    }
    catch (QueueFullException e)
    {
        return Results.Json(new { error = e.Message, field = (string?)null }, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

static async Task<(DemoRequest? Body, IResult? Rejected)> ReadBodyAsync(HttpRequest http, CancellationToken ct)
{
    try
    {
        return (await RequestBody.ReadAsync(http, ct), null);
    }
    catch (BadBodyException e)
    {
        return (null, Results.BadRequest(new { error = e.Message, field = e.Field }));
    }
}

static bool AddressInUse(Exception? e)
{
    for (; e is not null; e = e.InnerException)
    {
        if (e is Microsoft.AspNetCore.Connections.AddressInUseException or System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse })
            return true;
    }

    return false;
}

static string ReadPage()
{
    using var stream = typeof(GenerationQueue).Assembly.GetManifestResourceStream("index.html")!;
    using var reader = new StreamReader(stream);
    return reader.ReadToEnd();
}
