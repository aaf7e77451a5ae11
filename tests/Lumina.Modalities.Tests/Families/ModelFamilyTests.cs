using Lumina.Modalities.Tests.Pipelines;
using Lumina.Checkpoints;
using Lumina.Families;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Pipelines;
using Lumina.Schedulers;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Modalities.Tests.Families;

/// <summary>The model-family registry over real folders: detection, the scheduler config's shift, presets and the transformer-file seam.</summary>
public sealed class ModelFamilyTests(TinyLuminaNextFolders next) : IClassFixture<TinyLuminaNextFolders>
{
    [Fact]
    public void EachBuiltInFolderIsRecognisedAsItsFamily()
    {
        Assert.Same(LuminaNextFamily.Instance, ModelFamilies.Detect(ModelFolder.Open(next.Diffusers)));
        Assert.Same(LuminaNextFamily.Instance, ModelFamilies.Detect(ModelFolder.Open(next.Original)));
        using (var t2i = new TinyLuminaT2IFolders())
            Assert.Same(LuminaT2IFamily.Instance, ModelFamilies.Detect(ModelFolder.Open(t2i.Original)));
        Assert.Same(PixelSpaceDemoFamily.Instance, ModelFamilies.Detect(ModelFolder.Open(RepositoryFiles.DemoModel)));
        using var music = new TinyMusicFolder();
        Assert.Same(LuminaMusicFamily.Instance, ModelFamilies.Detect(ModelFolder.Open(music.Path)));
        var e = Assert.Throws<LuminaException>(() => ModelFamilies.Detect<ImageModelFamily>(ModelFolder.Open(music.Path), "text-to-image"));
        Assert.Contains("cannot be loaded as text-to-image", e.Message);
    }

    [Fact]
    public async Task ADiffusersFolderWhoseSchedulerConfigSaysShift6SamplesOnTheShift6Grid()
    {
        using var temp = new TempFolder("lumina-shift6");
        var shift6 = CopyOf(next.Diffusers, Path.Combine(temp.Path, "shift6"));
        File.WriteAllText(Path.Combine(shift6, DiffusersFolder.SchedulerFolder, DiffusersFolder.SchedulerConfigFile), new FlowMatchSchedulerConfig { Shift = 6 }.ToJson());
        var shift1 = CopyOf(next.Diffusers, Path.Combine(temp.Path, "shift1"));
        File.WriteAllText(Path.Combine(shift1, DiffusersFolder.SchedulerFolder, DiffusersFolder.SchedulerConfigFile), new FlowMatchSchedulerConfig { Shift = 1 }.ToJson());

        using var six = await LuminaPipeline.TextToImage().FromPretrained(shift6).BuildAsync();
        using var one = await LuminaPipeline.TextToImage().FromPretrained(shift1).BuildAsync();
        Assert.Equal(6, six.Settings.TimeShift);
        Assert.Equal(1, one.Settings.TimeShift);
        Assert.Equal(TimeGrid.Create(six.Settings.NumInferenceSteps + 1, 6), TimeGrid.ForSolver(six.Settings.Solver, six.Settings.NumInferenceSteps, six.Settings.TimeShift, 1.0, six.Settings.Schedule));

        var request = TinyLuminaNextFolders.Request();
        using var byFolder = await six.GenerateAsync(request);
        using var byRequest = await one.GenerateAsync(request with { TimeShift = 6 });
        using var unshifted = await one.GenerateAsync(request);
        Assert.Equal(6, byFolder.Metadata[0].TimeShift);
        Assert.Equal(EndToEndTests.Pixels(byRequest.Images[0]), EndToEndTests.Pixels(byFolder.Images[0]));
        Assert.NotEqual(EndToEndTests.Pixels(unshifted.Images[0]), EndToEndTests.Pixels(byFolder.Images[0]));

        // An explicit builder setting still wins over the folder's scheduler config.
        using var overridden = await LuminaPipeline.TextToImage().FromPretrained(shift6).WithTimeShift(2).BuildAsync();
        Assert.Equal(2, overridden.Settings.TimeShift);
    }

    [Fact]
    public async Task TransformerWeightsComeFromTheGivenFileInsteadOfTheFolders()
    {
        using var temp = new TempFolder("lumina-transformer-file");
        var file = Path.Combine(temp.Path, "finetune.safetensors");
        using (var generator = new Generator(424242))
        using (var other = TinyLuminaNextFolders.Randomize(new NextDiT(TinyLuminaNextFolders.DiT), generator, 0.3))
            other.SaveSafetensors(file);

        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(next.Diffusers).WithTransformerFile(file).BuildAsync();
        using var reference = new NextDiT(TinyLuminaNextFolders.DiT);
        reference.LoadSafetensors(file);
        var loaded = ((NextDiT)pipe.Transformer).state_dict();
        foreach (var (key, value) in reference.state_dict())
            Assert.True(value.equal(loaded[key]).all().item<bool>(), $"{key} differs from the file's");
        Assert.Throws<FileNotFoundException>(() => LuminaPipeline.TextToImage().WithTransformerFile(Path.Combine(temp.Path, "missing.safetensors")));
    }

    [Fact]
    public void PresetsAreLookedUpAcrossFamiliesAndAWrongConfigTypeIsNamed()
    {
        Assert.Same(LuminaNextFamily.Instance, ModelFamilies.Preset("NextDiT_2B_GQA_patch2").Family);
        Assert.Equal(DiTPresets.FlagDiT5B, ModelFamilies.Preset("dit-llama-5b").Config);
        Assert.Throws<ArgumentException>(() => ModelFamilies.Preset("NoSuchDiT"));

        var options = new ModelLoadOptions { TransformerConfig = TinyLuminaT2IFolders.DiT };
        var context = new FamilyLoadContext(ModelFolder.Open(next.Original), options, LuminaNextFamily.Instance);
        var e = Assert.Throws<LuminaException>(() => context.TransformerConfig<NextDiTConfig>());
        Assert.Contains("needs a NextDiTConfig, but a FlagDiTConfig was given", e.Message);
    }

    [Fact]
    public void ARegisteredFamilyIsTriedFirstAndItsNameMustBeUnique()
    {
        var family = new MarkerFamily();
        ModelFamilies.Register(family);
        ModelFamilies.Register(family); // idempotent
        Assert.Same(family, ModelFamilies.All[0]);
        Assert.Same(family, ModelFamilies.ByName("marker-test"));
        using var temp = new TempFolder("lumina-marker");
        var folder = CopyOf(next.Diffusers, temp.Path);
        File.WriteAllText(Path.Combine(folder, "MARKER"), "");
        Assert.Same(family, ModelFamilies.Detect(ModelFolder.Open(folder)));
        Assert.Same(LuminaNextFamily.Instance, ModelFamilies.Detect(ModelFolder.Open(next.Diffusers)));
        Assert.Throws<ArgumentException>(() => ModelFamilies.Register(new MarkerFamily()));
    }

    /// <summary>A family that claims folders holding a MARKER file and loads them as Lumina-Next would.</summary>
    private sealed class MarkerFamily : ImageModelFamily
    {
        public override string Name => "marker-test";
        public override string DisplayName => "marker (test)";
        public override SamplingSettings DefaultSettings => TextToImagePresets.LuminaNext;
        public override string DefaultTextEncoderRepo => "google/gemma-2b";
        public override bool Recognizes(ModelFolder folder) => File.Exists(Path.Combine(folder.Path, "MARKER"));
        public override IDiffusionTransformer LoadTransformer(FamilyLoadContext context) => LuminaNextFamily.Instance.LoadTransformer(context);
        public override ICaptionEncoder LoadCaptionEncoder(string textEncoderFolder, string tokenizerFolder, FamilyLoadContext context) =>
            LuminaNextFamily.Instance.LoadCaptionEncoder(textEncoderFolder, tokenizerFolder, context);
    }

    internal static string CopyOf(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var dir in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, dir)));
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(destination, Path.GetRelativePath(source, file)));
        return destination;
    }
}
