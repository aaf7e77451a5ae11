// A consumer of the Lumina packages: proves the packages restore, compile against, carry the TorchSharp
// native-load step (buildTransitive) and run. Argument: a safetensors file to load.
using Lumina.Tensors;
using TorchSharp;

var path = args.Length > 0 ? args[0] : throw new ArgumentException("Pass a .safetensors file.");
using var checkpoint = SafetensorsCheckpoint.Open(path);
var first = checkpoint.Tensors[0];
using var tensor = checkpoint.Read(first.Name, torch.float32);
using var product = tensor.reshape(-1, 1).matmul(tensor.reshape(1, -1));
Console.WriteLine($"consumer ok: {checkpoint.Tensors.Count} tensors, {first} -> outer product {string.Join("x", product.shape)}");
