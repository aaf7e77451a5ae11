// Built only with -p:LuminaCheck=true (instead of Program.cs, which is README.md's "Generating" snippet as written):
// checks what the snippet made, from the packages alone. The PNG decodes, has the demo model's 32×32 size and its
// generation metadata, and the demo model was copied next to the app by the Lumina.Models.Demo package.
using Lumina.Models;
using Lumina.Pipelines;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

var output = args.Length > 0 ? args[0] : "lumina.png";
if (!DemoModel.IsPresent)
    throw new InvalidOperationException($"Lumina.Models.Demo did not copy the model to {DemoModel.Path}.");

using var decoded = Image.Load<Rgb24>(output);
var metadata = GenerationMetadata.ReadFrom(decoded) ?? throw new InvalidDataException($"{output} lost its generation metadata.");
if (decoded.Width != 32 || decoded.Height != 32)
    throw new InvalidDataException($"{output} is {decoded.Width}x{decoded.Height}; the demo model makes 32x32.");
Console.WriteLine($"consumer ok: {Path.GetFullPath(output)} {decoded.Width}x{decoded.Height}, {metadata}");
