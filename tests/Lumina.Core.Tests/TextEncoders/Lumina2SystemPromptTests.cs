using Lumina.Models.TextEncoders;

namespace Lumina.Core.Tests.TextEncoders;

/// <summary>Upstream's exact system-prompt strings (reference doc, Lumina-Image 2.0 "Text") and the prepending rule.</summary>
public sealed class Lumina2SystemPromptTests
{
    [Theory]
    [InlineData("base", "You are an assistant designed to generate high-quality images based on user prompts. <Prompt Start> ")]
    [InlineData("align", "You are an assistant designed to generate high-quality images with the highest degree of image-text alignment based on textual prompts. <Prompt Start> ")]
    [InlineData("aesthetics", "You are an assistant designed to generate high-quality images with highest degree of aesthetics based on user prompts. <Prompt Start> ")]
    [InlineData("real", "You are an assistant designed to generate superior images with the superior degree of image-text alignment based on textual prompts or user prompts. <Prompt Start> ")]
    [InlineData("4grid", "You are an assistant designed to generate four high-quality images with highest degree of aesthetics arranged in 2x2 grids based on user prompts. <Prompt Start> ")]
    [InlineData("none", "")]
    public void NamesGiveUpstreamsExactStrings(string name, string expected)
    {
        Assert.Equal(expected, Lumina2SystemPrompt.Get(name));
        Assert.Equal(expected, Lumina2SystemPrompt.Get(name.ToUpperInvariant()));
        Assert.Contains(name, Lumina2SystemPrompt.Names);
    }

    [Fact]
    public void SystemPromptIsPrependedToPromptAndToANonEmptyNegativeOnly()
    {
        var real = Lumina2SystemPrompt.Get(Lumina2SystemPrompt.DefaultName);
        Assert.Equal(real + "a cat", Lumina2SystemPrompt.Apply(real, "a cat"));
        Assert.Equal(real + "blurry", Lumina2SystemPrompt.ApplyToNegative(real, "blurry"));
        Assert.Equal("", Lumina2SystemPrompt.ApplyToNegative(real, ""));
        Assert.Equal("", Lumina2SystemPrompt.ApplyToNegative(real, null));
        Assert.Equal([real + "a cat", ""], Lumina2SystemPrompt.ForGuidance(real, "a cat", null));
        Assert.Equal(["a cat", "blurry"], Lumina2SystemPrompt.ForGuidance(Lumina2SystemPrompt.None, "a cat", "blurry"));
    }

    [Fact]
    public void UnknownNamesAreRejectedListingTheKnownOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Lumina2SystemPrompt.Get("photo"));
        Assert.Contains("4grid", ex.Message);
        Assert.False(Lumina2SystemPrompt.TryGet("photo", out _));
    }
}
