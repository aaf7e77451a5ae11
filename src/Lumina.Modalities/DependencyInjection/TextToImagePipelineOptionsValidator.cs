using Microsoft.Extensions.Options;

namespace Lumina.DependencyInjection;

/// <summary>Checks each named <see cref="TextToImagePipelineOptions"/>.</summary>
internal sealed class TextToImagePipelineOptionsValidator : IValidateOptions<TextToImagePipelineOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TextToImagePipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Model))
            failures.Add($"Pipeline '{name}': {nameof(TextToImagePipelineOptions.Model)} is not set; give a model folder or repo id.");
        if (options.Settings is not null)
        {
            try
            {
                options.Settings.Validate();
            }
            catch (ArgumentException e)
            {
                failures.Add($"Pipeline '{name}': {nameof(TextToImagePipelineOptions.Settings)}.{e.ParamName}: {e.Message}");
            }
        }
        if (options.Load is null) failures.Add($"Pipeline '{name}': {nameof(TextToImagePipelineOptions.Load)} is null.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
