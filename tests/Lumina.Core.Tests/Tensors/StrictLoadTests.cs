using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Tensors;

public sealed class StrictLoadTests
{
    private sealed class TwoLayers : nn.Module
    {
        public readonly TorchSharp.Modules.Linear first;
        public readonly TorchSharp.Modules.Linear second;

        public TwoLayers() : base(nameof(TwoLayers))
        {
            first = nn.Linear(4, 3);
            second = nn.Linear(3, 2);
            RegisterComponents();
        }
    }

    private static Dictionary<string, Tensor> StateOf(nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    [Fact]
    public void ReportsMissingUnexpectedAndMisshapenKeysByName()
    {
        using var temp = new TempFolder();
        using var source = new TwoLayers();
        var state = StateOf(source);
        state.Remove("second.bias");                         // missing
        state["third.weight"] = randn(2, 2);                 // unexpected
        state["first.weight"] = randn(5, 4);                 // wrong shape
        var path = temp.File("broken.safetensors");
        SafetensorsWriter.Write(path, state);

        using var target = new TwoLayers();
        var before = StateOf(target);
        var ex = Assert.Throws<CheckpointMismatchException>(() => target.LoadSafetensors(path));

        Assert.Contains("second.bias", ex.Message);
        Assert.Contains("third.weight", ex.Message);
        Assert.Contains("first.weight: checkpoint [5, 4], model [3, 4]", ex.Message);
        Assert.Equal(["second.bias"], ex.Report.Missing);
        Assert.Equal(["third.weight"], ex.Report.Unexpected);
        Assert.Single(ex.Report.ShapeMismatches);
        // Nothing was loaded.
        foreach (var (key, value) in target.state_dict())
            TensorAssert.Equal(before[key], value, key);
    }

    [Fact]
    public void LoadsAnExactMatchAndTheNonStrictModeLoadsWhatMatches()
    {
        using var temp = new TempFolder();
        using var source = new TwoLayers();
        var path = temp.File("good.safetensors");
        source.SaveSafetensors(path, new Dictionary<string, string> { ["format"] = "pt" });

        using var target = new TwoLayers();
        var report = target.LoadSafetensors(path);
        Assert.True(report.IsExactMatch);
        foreach (var (key, value) in source.state_dict())
            TensorAssert.Equal(value, target.state_dict()[key], key);

        var partial = StateOf(source);
        partial.Remove("second.weight");
        var partialPath = temp.File("partial.safetensors");
        SafetensorsWriter.Write(partialPath, partial);
        using var lenient = new TwoLayers();
        var lenientReport = lenient.LoadSafetensors(partialPath, new CheckpointLoadOptions { Strict = false });
        Assert.Equal(["second.weight"], lenientReport.Missing);
        TensorAssert.Equal(source.first.weight!, lenient.first.weight!);
    }

    [Fact]
    public void KeyMapRenamesAndSkips()
    {
        using var temp = new TempFolder();
        using var source = new TwoLayers();
        var path = temp.File("renamed.safetensors");
        source.SaveSafetensors(path, keyMap: k => "model." + k);
        var extra = StateOf(source);
        extra = extra.ToDictionary(kv => "model." + kv.Key, kv => kv.Value);
        extra["model.first.weight_copy"] = extra["model.first.weight"];
        SafetensorsWriter.Write(path, extra);

        using var target = new TwoLayers();
        var report = target.LoadSafetensors(path, new CheckpointLoadOptions
        {
            KeyMap = k => k.EndsWith("_copy", StringComparison.Ordinal) ? null : k["model.".Length..],
        });
        Assert.True(report.IsExactMatch);
        Assert.Equal(["model.first.weight_copy"], report.Skipped);
        TensorAssert.Equal(source.second.bias!, target.second.bias!);
    }

    [Fact]
    public void ConvertsDTypeAtLoadTime()
    {
        using var temp = new TempFolder();
        using var source = new TwoLayers();
        var path = temp.File("bf16.safetensors");
        SafetensorsWriter.Write(path, source.state_dict().Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.to(bfloat16))));
        using var target = new TwoLayers();
        target.LoadSafetensors(path);
        Assert.Equal(float32, target.first.weight!.dtype);
        TensorAssert.Close(source.first.weight!, target.first.weight!, atol: 1e-2, rtol: 1e-2, what: "bf16 rounding");
    }
}
