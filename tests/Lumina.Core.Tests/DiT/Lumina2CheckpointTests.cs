using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

/// <summary>
/// The three key layouts of a Lumina-Image 2.0 transformer: diffusers (golden part 'lumina2_diffusers', split qkv,
/// q/k eps 1e-5), a ComfyUI single file built here from the upstream weights, and saving each back.
/// </summary>
public sealed class Lumina2CheckpointTests
{
    [Fact]
    public void DiffusersCheckpointLoadsStrictlyAndMatchesDiffusersForward()
    {
        using var scope = NewDisposeScope();
        using var model = new Lumina2Transformer(GoldenLumina2.DiffusersConfig());
        var result = Lumina2Checkpoint.Load(model, Golden.WeightsPath("lumina2_diffusers"));
        Assert.Equal(Lumina2CheckpointLayout.Diffusers, result.Layout);
        Assert.True(result.Report.IsExactMatch);
        Assert.Empty(result.Report.Skipped);

        using var cases = Golden.OpenCases("lumina2_diffusers");
        var traces = new Dictionary<string, Tensor>();
        var options = new DiTForwardOptions { Trace = (name, t) => traces[name] = t.detach().clone().MoveToOuterDisposeScope() };
        Tensor output;
        using (no_grad()) output = model.Forward(cases.Read("x"), cases.Read("t"), cases.Read("cap_feats"), cases.Read("cap_mask"), options);
        TensorAssert.Close(cases.Read("out.forward"), output, what: "diffusers out.forward");

        // diffusers' submodule names for the same points of the forward.
        var names = new Dictionary<string, string>
        {
            ["time_caption_embed.temb"] = "t_embedder", ["time_caption_embed.caption"] = "cap_embedder",
            ["rope.freqs_cis"] = "freqs_cis", ["rope.cap_freqs_cis"] = "cap_freqs_cis", ["rope.img_freqs_cis"] = "img_freqs_cis",
            ["x_embedder"] = "x_embedder", ["context_refiner.0"] = "context_refiner.0", ["context_refiner.1"] = "context_refiner.1",
            ["noise_refiner.0"] = "noise_refiner.0", ["noise_refiner.1"] = "noise_refiner.1", ["layers.0"] = "layers.0",
            ["layers.1"] = "layers.1", ["norm_out"] = "final_layer", ["joint_input"] = "joint_input", ["joint_mask"] = "joint_mask",
        };
        var traceNames = cases.Tensors.Select(t => t.Name).Where(n => n.StartsWith("trace.forward.", StringComparison.Ordinal)).ToList();
        Assert.Equal(names.Count, traceNames.Count);
        foreach (var name in traceNames)
            TensorAssert.Close(cases.Read(name), traces[names[name["trace.forward.".Length..]]], what: name);

        // Same weights as upstream's part, so it agrees with upstream's forward too (the eps differs: within tolerance).
        using var upstream = Golden.OpenCases("lumina2");
        TensorAssert.Close(upstream.Read("out.forward"), output, what: "lumina2 out.forward");
    }

    [Fact]
    public void KeyMapReproducesDiffusersConversionForEveryKey()
    {
        var config = GoldenLumina2.DiffusersConfig();
        var map = Golden.Json("lumina2_diffusers")["conversion"]!["key_map"]!.AsObject();
        using var upstreamFile = SafetensorsFile.Open(Golden.WeightsPath("lumina2"));
        using var diffusersFile = SafetensorsFile.Open(Golden.WeightsPath("lumina2_diffusers"));
        Assert.Equal(upstreamFile.Tensors.Count, map.Count); // norm_final maps to nothing
        foreach (var (upstreamKey, target) in map)
        {
            var slices = Lumina2KeyMap.ToDiffusers(upstreamKey, config);
            if (target is System.Text.Json.Nodes.JsonArray names)
            {
                Assert.Equal(names.Select(n => (string)n!), slices.Select(s => s.Key));
                Assert.All(slices, s => Assert.True(s.IsWhole));
            }
            else
            {
                var parts = target!.AsObject();
                Assert.Equal(parts.Select(p => p.Key), slices.Select(s => s.Key));
                foreach (var slice in slices)
                {
                    var range = parts[slice.Key]!.AsArray();
                    Assert.Equal((long)range[0]!, slice.RowStart);
                    Assert.Equal((long)range[1]! - (long)range[0]!, slice.Rows);
                }
            }
            foreach (var slice in slices)
            {
                var back = Lumina2KeyMap.FromDiffusers(slice.Key, config);
                Assert.Equal(upstreamKey, back.Key);
                Assert.Equal(slice, back with { Key = slice.Key });
            }
        }
        Assert.Empty(Lumina2KeyMap.ToDiffusers("norm_final.weight", config));
        Assert.Equal(diffusersFile.Tensors.Select(t => t.Name).Order(), map.SelectMany(kv => Lumina2KeyMap.ToDiffusers(kv.Key, config)).Select(s => s.Key).Order());
    }

    [Fact]
    public void SavingBackKeepsTheLayoutAndEveryValue()
    {
        using var temp = new TempFolder();
        foreach (var (part, config) in new[] { ("lumina2", GoldenLumina2.UpstreamConfig()), ("lumina2_diffusers", GoldenLumina2.DiffusersConfig()) })
        {
            using var model = new Lumina2Transformer(config);
            var result = Lumina2Checkpoint.Load(model, Golden.WeightsPath(part));
            var saved = temp.File($"{part}.safetensors");
            Lumina2Checkpoint.Save(model, saved, result.Layout);
            Assert.Equal(result.Layout, Lumina2Checkpoint.DetectLayout(saved));
            using var original = SafetensorsFile.Open(Golden.WeightsPath(part));
            using var written = SafetensorsFile.Open(saved);
            Assert.Equal(original.Tensors.Select(t => t.Name).Order(), written.Tensors.Select(t => t.Name).Order());
            foreach (var info in original.Tensors)
            {
                using var a = original.Read(info.Name);
                using var b = written.Read(info.Name);
                TensorAssert.Equal(a, b, info.Name);
            }
        }
    }

    [Fact]
    public void ComfyUISingleFileLoadsStrictlySkippingOtherComponents()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        var path = temp.File("lumina_2.safetensors");
        using (var upstream = SafetensorsFile.Open(Golden.WeightsPath("lumina2")))
        {
            var entries = upstream.Tensors.Select(t => new KeyValuePair<string, Tensor>(Lumina2KeyMap.ComfyPrefix + t.Name, upstream.Read(t.Name))).ToList();
            // An all-in-one file also carries the text encoder and the VAE.
            entries.Add(new("vae.decoder.conv_in.weight", zeros(4, 16, 3, 3)));
            entries.Add(new("text_encoders.gemma2_2b.transformer.model.norm.weight", ones(8)));
            SafetensorsWriter.Write(path, entries);
        }
        Assert.Equal(Lumina2CheckpointLayout.ComfyUI, Lumina2Checkpoint.DetectLayout(path));

        using var model = new Lumina2Transformer(GoldenLumina2.UpstreamConfig());
        var result = Lumina2Checkpoint.Load(model, path);
        Assert.Equal(Lumina2CheckpointLayout.ComfyUI, result.Layout);
        Assert.True(result.Report.IsExactMatch);
        Assert.Equal(2, result.Report.Skipped.Count);

        using var cases = Golden.OpenCases("lumina2");
        Tensor output;
        using (no_grad()) output = model.Forward(cases.Read("x"), cases.Read("t"), cases.Read("cap_feats"), cases.Read("cap_mask"));
        TensorAssert.Close(cases.Read("out.forward"), output, what: "out.forward from the ComfyUI file");

        var saved = temp.File("saved.safetensors");
        Lumina2Checkpoint.Save(model, saved, result.Layout);
        using var written = SafetensorsFile.Open(saved);
        Assert.All(written.Tensors, t => Assert.StartsWith(Lumina2KeyMap.ComfyPrefix, t.Name));
        Assert.Equal(model.state_dict().Count, written.Tensors.Count);
    }

    [Fact]
    public void AnIncompleteQkvSplitFailsTheStrictLoadNamingTheKeys()
    {
        using var temp = new TempFolder();
        var path = temp.File("partial.safetensors");
        using (var file = SafetensorsFile.Open(Golden.WeightsPath("lumina2_diffusers")))
        {
            var entries = file.Tensors.Where(t => t.Name != "layers.1.attn.to_v.weight")
                .Select(t => new KeyValuePair<string, Tensor>(t.Name, file.Read(t.Name))).ToList();
            SafetensorsWriter.Write(path, entries);
        }
        using var model = new Lumina2Transformer(GoldenLumina2.DiffusersConfig());
        var ex = Assert.Throws<CheckpointMismatchException>(() => Lumina2Checkpoint.Load(model, path));
        Assert.Contains("layers.1.attention.qkv.weight", ex.Message);
        Assert.Contains("layers.1.attn.to_q.weight", ex.Message);
        var lenient = Lumina2Checkpoint.Load(model, path, strict: false);
        Assert.Equal(["layers.1.attention.qkv.weight"], lenient.Report.Missing);
    }

    [Fact]
    public void AnUpstreamFileNeedsNormFinalAndADiffusersFileHasNone()
    {
        using var noNormFinal = new Lumina2Transformer(GoldenLumina2.DiffusersConfig());
        var ex = Assert.Throws<CheckpointMismatchException>(() => Lumina2Checkpoint.Load(noNormFinal, Golden.WeightsPath("lumina2")));
        Assert.Contains("norm_final.weight", ex.Message);
    }
}
