using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// The result of a text-encoder forward pass, shaped like Hugging Face's <c>BaseModelOutput</c>: the last hidden state
/// (after the final norm) and, when asked for, every hidden state.
/// </summary>
/// <remarks>
/// <see cref="HiddenStates"/> follows Hugging Face: entry 0 is the embedding output, entry i the output of layer i,
/// and the last entry is the final-normed output (the same tensor as <see cref="LastHiddenState"/>). So with
/// <c>n</c> layers there are <c>n + 1</c> entries and <c>HiddenState(-2)</c> is the penultimate layer's output before
/// any norm (what Lumina-Next feeds its DiT). Dispose the output to free every tensor.
/// </remarks>
public sealed class TextEncoderOutput : IDisposable
{
    private bool _disposed;

    /// <summary>Creates an output.</summary>
    /// <param name="lastHiddenState">The final-normed output <c>[batch, tokens, hidden]</c>.</param>
    /// <param name="hiddenStates">Every hidden state, or an empty list when not requested.</param>
    public TextEncoderOutput(Tensor lastHiddenState, IReadOnlyList<Tensor> hiddenStates)
    {
        LastHiddenState = lastHiddenState ?? throw new ArgumentNullException(nameof(lastHiddenState));
        HiddenStates = hiddenStates ?? throw new ArgumentNullException(nameof(hiddenStates));
    }

    /// <summary>The final-normed output <c>[batch, tokens, hidden]</c>.</summary>
    public Tensor LastHiddenState { get; }

    /// <summary>Every hidden state (empty unless requested); see the remarks of <see cref="TextEncoderOutput"/>.</summary>
    public IReadOnlyList<Tensor> HiddenStates { get; }

    /// <summary>A hidden state by index; negative indices count from the end as in Python (<c>-2</c> = penultimate).</summary>
    /// <param name="index">The index.</param>
    /// <exception cref="InvalidOperationException">Hidden states were not requested.</exception>
    public Tensor HiddenState(int index)
    {
        if (HiddenStates.Count == 0)
        {
            throw new InvalidOperationException("Hidden states were not kept; call the model with outputHiddenStates: true.");
        }

        int i = index < 0 ? HiddenStates.Count + index : index;
        if (i < 0 || i >= HiddenStates.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"Index {index} is outside the {HiddenStates.Count} hidden states.");
        }

        return HiddenStates[i];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var t in HiddenStates)
        {
            if (!ReferenceEquals(t, LastHiddenState))
            {
                t.Dispose();
            }
        }

        LastHiddenState.Dispose();
    }
}
