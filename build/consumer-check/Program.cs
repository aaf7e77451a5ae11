// A consumer of the Lumina packages: proves the packages restore, compile against, carry the TorchSharp native-load
// step (buildTransitive) and run, by generating a PNG with the demo model and decoding it again.
// Arguments: a model folder (the repository's models/lumina-demo) and the PNG to write.
using Lumina.Pipelines;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

var model = args.Length > 0 ? args[0] : throw new ArgumentException("Pass a model folder, for example models/lumina-demo.");
var output = args.Length > 1 ? args[1] : "consumer.png";

using var pipe = await LuminaPipeline.TextToImage().FromPretrained(model).BuildAsync();
using var result = await pipe.GenerateAsync(new("a blue square at the top on a black background") { Seed = 3 });
await result.Images[0].SaveAsPngAsync(output);

using var decoded = Image.Load<Rgb24>(output);
var metadata = GenerationMetadata.ReadFrom(decoded) ?? throw new InvalidDataException($"{output} lost its generation metadata.");
Console.WriteLine($"consumer ok: {Path.GetFullPath(output)} {decoded.Width}x{decoded.Height}, {metadata}");
