using Lumina.Media;

namespace Lumina.Audio;

/// <summary>Generated clips: mono waveforms in [−1, 1] at <see cref="SampleRate"/>.</summary>
public sealed class TextToAudioResult
{
    internal TextToAudioResult(IReadOnlyList<float[]> waveforms, int sampleRate, IReadOnlyList<long> seeds)
    {
        Waveforms = waveforms;
        SampleRate = sampleRate;
        Seeds = seeds;
    }

    /// <summary>One mono waveform per prompt.</summary>
    public IReadOnlyList<float[]> Waveforms { get; }

    /// <summary>Samples per second.</summary>
    public int SampleRate { get; }

    /// <summary>The noise seed of each clip.</summary>
    public IReadOnlyList<long> Seeds { get; }

    /// <summary>Clip <paramref name="index"/> as 16-bit PCM WAV bytes.</summary>
    public byte[] ToWav(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Waveforms.Count);
        using var stream = new MemoryStream();
        WavWriter.Write(stream, Waveforms[index], channels: 1, SampleRate);
        return stream.ToArray();
    }

    /// <summary>
    /// Writes clip <paramref name="index"/> to a WAV file through a temporary file renamed into place, so a failed or
    /// cancelled write never leaves a truncated file.
    /// </summary>
    public void SaveWav(int index, string path) => SaveWavAsync(index, path).GetAwaiter().GetResult();

    /// <inheritdoc cref="SaveWav"/>
    public Task SaveWavAsync(int index, string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var wav = ToWav(index);
        return Lumina.Media.AtomicFile.WriteAsync(path, (stream, ct) => stream.WriteAsync(wav, ct).AsTask(), cancellationToken);
    }
}
