using System.CommandLine;
using System.Globalization;
using Lumina.Adapters;
using Lumina.Pipelines;

namespace Lumina.Cli.Commands;

/// <summary><c>--lora file[:strength]</c>, repeatable: LoRA files applied to the transformer in order, each with its strength.</summary>
internal static class LoraOption
{
    /// <summary>The option (checked at parse time: every file must exist and every strength be a number).</summary>
    public static Option<string[]> Create()
    {
        var option = new Option<string[]>("--lora")
        {
            Description = "A LoRA file to apply, optionally with a strength (file.safetensors:0.8; default 1). Repeat to stack several. " +
                          "kohya, ComfyUI and diffusers/PEFT files (LoRA, LoHa, LoKr) are read; keys that patch nothing in the model are an error.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        option.Validators.Add(r =>
        {
            foreach (var spec in r.GetValueOrDefault<string[]>() ?? [])
            {
                try
                {
                    var (path, _) = Parse(spec);
                    if (!File.Exists(path))
                        r.AddError($"--lora: the file '{path}' does not exist.");
                }
                catch (UsageException e)
                {
                    r.AddError(e.Message);
                }
            }
        });
        return option;
    }

    /// <summary>
    /// Splits <c>file[:strength]</c>. The part after the last ':' is a strength only when it reads as a number, so a
    /// Windows path (C:\loras\x.safetensors) without a strength stays whole.
    /// </summary>
    public static (string Path, double Strength) Parse(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec))
            throw new UsageException("--lora needs a file name (file.safetensors or file.safetensors:strength).");
        var colon = spec.LastIndexOf(':');
        if (colon > 0 && colon < spec.Length - 1
            && double.TryParse(spec[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var strength))
        {
            if (!double.IsFinite(strength))
                throw new UsageException($"--lora {spec}: the strength must be a finite number.");
            return (spec[..colon], strength);
        }
        if (colon == spec.Length - 1)
            throw new UsageException($"--lora {spec}: nothing follows ':'; give a strength (file.safetensors:0.8) or drop the ':'.");
        return (spec, 1.0);
    }

    /// <summary>Merges each LoRA into the pipeline's transformer, in order (merged for good: the CLI never unloads them).</summary>
    public static void Apply(TextToImagePipeline pipeline, IEnumerable<string>? specs)
    {
        foreach (var spec in specs ?? [])
        {
            var (path, strength) = Parse(spec);
            var handle = pipeline.LoadLora(path, strength, LoraApplyMode.Merge);
            Console.Error.WriteLine($"LoRA {Path.GetFileName(path)} at strength {strength.ToString(CultureInfo.InvariantCulture)}: {handle.PatchedWeights.Count} weights patched");
        }
    }
}
