using Lumina.Pipelines;
using SixLabors.ImageSharp;

// dotnet run --project samples/Lumina.QuickStart -- [model folder or Hub id] [prompt] [size]
var model = args.ElementAtOrDefault(0) ?? "Alpha-VLLM/Lumina-Next-SFT-diffusers";
var prompt = args.ElementAtOrDefault(1) ?? "a lighthouse at dusk";
var size = int.Parse(args.ElementAtOrDefault(2) ?? "1024");

using var pipe = await LuminaPipeline.TextToImage().FromPretrained(model).BuildAsync();
using var result = await pipe.GenerateAsync(new(prompt) { Width = size, Height = size, Seed = 42 });
await result.Images[0].SaveAsPngAsync("lumina.png");
Console.WriteLine($"{Path.GetFullPath("lumina.png")}: {result.Metadata[0]}");
