using Lumina.Models;
using Lumina.Pipelines;
using SixLabors.ImageSharp;

// dotnet run --project samples/Lumina.QuickStart -- [prompt] [model folder or Hub id]
var prompt = args.ElementAtOrDefault(0) ?? "a red circle on the left on a white background";
var model = args.ElementAtOrDefault(1) ?? DemoModel.Path;   // the Lumina.Models.Demo package

using var pipe = await LuminaPipeline.TextToImage().FromPretrained(model).BuildAsync();
using var result = await pipe.GenerateAsync(new(prompt) { Seed = 42 });
await result.Images[0].SaveAsPngAsync("lumina.png");
Console.WriteLine($"{Path.GetFullPath("lumina.png")}: {result.Metadata[0]}");
