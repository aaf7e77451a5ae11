using Lumina.Models.DiT;
using Lumina.Pipelines;
using Lumina.Testing;
using TorchSharp;

namespace Lumina.Modalities.Tests.Pipelines;

/// <summary>SavePretrainedAsync then FromPretrained: byte-identical weights and identical images, for both source layouts.</summary>
public sealed class SavePretrainedTests(TinyLuminaNextFolders folders) : IClassFixture<TinyLuminaNextFolders>
{
    [Fact]
    public async Task ADiffusersFolderRoundTripsToByteIdenticalWeightsAndIdenticalImages()
    {
        using var temp = new TempFolder("lumina-save");
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        var first = Path.Combine(temp.Path, "first");
        await pipe.SavePretrainedAsync(first);

        using var reloaded = await LuminaPipeline.TextToImage().FromPretrained(first).BuildAsync();
        AssertSameWeights(pipe.Transformer as NextDiT, reloaded.Transformer as NextDiT);
        AssertSameWeights(pipe.CaptionEncoder.Module, reloaded.CaptionEncoder.Module);
        AssertSameWeights((torch.nn.Module)pipe.LatentSpace, (torch.nn.Module)reloaded.LatentSpace);
        Assert.Equal(pipe.Settings, reloaded.Settings);

        var request = TinyLuminaNextFolders.Request();
        using var before = await pipe.GenerateAsync(request);
        using var after = await reloaded.GenerateAsync(request);
        Assert.Equal(EndToEndTests.Pixels(before.Images[0]), EndToEndTests.Pixels(after.Images[0]));

        // Saving the reloaded pipeline again writes the same bytes, file for file.
        var second = Path.Combine(temp.Path, "second");
        await reloaded.SavePretrainedAsync(second);
        var files = Directory.GetFiles(first, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(first, f)).Order().ToList();
        Assert.Equal(files, Directory.GetFiles(second, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(second, f)).Order());
        Assert.Contains(Path.Combine("transformer", "diffusion_pytorch_model.safetensors"), files);
        foreach (var file in files)
            Assert.True(File.ReadAllBytes(Path.Combine(first, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(second, file))), $"{file} differs");
    }

    [Fact]
    public async Task AnOriginalLayoutPipelineSavesAsADiffusersFolderThatGivesTheSameImages()
    {
        using var temp = new TempFolder("lumina-save-original");
        using var pipe = await folders.OriginalBuilder().BuildAsync();
        var saved = Path.Combine(temp.Path, "converted");
        await pipe.SavePretrainedAsync(saved);
        Assert.True(File.Exists(Path.Combine(saved, "model_index.json")));

        using var reloaded = await LuminaPipeline.TextToImage().FromPretrained(saved).BuildAsync();
        var request = TinyLuminaNextFolders.Request(seed: 3);
        using var before = await pipe.GenerateAsync(request);
        using var after = await reloaded.GenerateAsync(request);
        Assert.Equal(EndToEndTests.Pixels(before.Images[0]), EndToEndTests.Pixels(after.Images[0]));
    }

    [Fact]
    public async Task ANonEmptyFolderThatIsNoModelIsNeverReplaced()
    {
        using var temp = new TempFolder("lumina-save-refuse");
        File.WriteAllText(Path.Combine(temp.Path, "notes.txt"), "mine");
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        await Assert.ThrowsAsync<IOException>(() => pipe.SavePretrainedAsync(temp.Path));
        await Assert.ThrowsAsync<IOException>(() => pipe.SavePretrainedAsync(temp.Path, overwrite: true));
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName));

        var model = Path.Combine(temp.Path, "model");
        await pipe.SavePretrainedAsync(model);
        await Assert.ThrowsAsync<IOException>(() => pipe.SavePretrainedAsync(model));
        await pipe.SavePretrainedAsync(model, overwrite: true); // an existing diffusers folder may be replaced when asked
        Assert.Equal(2, Directory.GetFileSystemEntries(temp.Path).Length);
    }

    private static void AssertSameWeights(torch.nn.Module? expected, torch.nn.Module? actual)
    {
        Assert.NotNull(expected);
        Assert.NotNull(actual);
        var theirs = actual.state_dict();
        var ours = expected.state_dict();
        Assert.Equal(ours.Keys.Order(), theirs.Keys.Order());
        foreach (var (key, value) in ours)
            Assert.True(value.dtype == theirs[key].dtype && value.equal(theirs[key]).all().item<bool>(), $"{key} differs");
    }
}
