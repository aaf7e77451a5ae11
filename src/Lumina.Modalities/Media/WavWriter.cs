using System.Buffers.Binary;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Media;

/// <summary>
/// Writes waveforms as 16-bit PCM WAV (RIFF) with the sample rate in the header. Samples are clamped to [−1, 1] and
/// scaled by 32767 with round-half-to-even, as libsndfile (Python's soundfile) does for PCM_16.
/// </summary>
internal static class WavWriter
{
    /// <summary>Writes a waveform to a stream.</summary>
    /// <param name="destination">A writable stream; it is left open.</param>
    /// <param name="waveform">(samples), (channels, samples) or (1, channels, samples) as BigVGAN returns; floating point.</param>
    /// <param name="sampleRate">Samples per second (16000 for Lumina-T2Music).</param>
    /// <exception cref="ArgumentException">The waveform shape or dtype is unusable.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The sample rate is not positive.</exception>
    public static void Write(Stream destination, Tensor waveform, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(waveform);
        if (!waveform.is_floating_point()) throw new ArgumentException($"Waveforms must be floating point in [-1, 1]; got {waveform.dtype}.", nameof(waveform));
        using var scope = NewDisposeScope();
        var w = waveform.dim() switch
        {
            1 => waveform.unsqueeze(0),
            2 => waveform,
            3 when waveform.shape[0] == 1 => waveform.squeeze(0),
            _ => throw new ArgumentException($"Expected (samples), (channels, samples) or (1, channels, samples); got [{string.Join(", ", waveform.shape)}].", nameof(waveform)),
        };
        // Interleave channels: (samples, channels).
        var samples = w.detach().to(ScalarType.Float32, CPU).t().contiguous().data<float>().ToArray();
        Write(destination, samples, (int)w.shape[0], sampleRate);
    }

    /// <summary>Writes interleaved float samples to a stream.</summary>
    /// <param name="destination">A writable stream; it is left open.</param>
    /// <param name="interleaved">Samples in [−1, 1], channel-interleaved.</param>
    /// <param name="channels">Channels (1 for mono).</param>
    /// <param name="sampleRate">Samples per second.</param>
    public static void Write(Stream destination, ReadOnlySpan<float> interleaved, int channels, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        if (interleaved.Length % channels != 0)
            throw new ArgumentException($"{interleaved.Length} samples do not split into {channels} channels.", nameof(interleaved));
        const int bytesPerSample = 2;
        long dataBytes = (long)interleaved.Length * bytesPerSample;
        if (dataBytes > uint.MaxValue - 36) throw new ArgumentException("The waveform is too long for a WAV file (4 GiB limit).", nameof(interleaved));

        Span<byte> header = stackalloc byte[44];
        "RIFF"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)(36 + dataBytes));
        "WAVE"u8.CopyTo(header[8..]);
        "fmt "u8.CopyTo(header[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 16);                    // fmt chunk size
        BinaryPrimitives.WriteUInt16LittleEndian(header[20..], 1);                     // PCM
        BinaryPrimitives.WriteUInt16LittleEndian(header[22..], (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], (uint)(sampleRate * channels * bytesPerSample)); // byte rate
        BinaryPrimitives.WriteUInt16LittleEndian(header[32..], (ushort)(channels * bytesPerSample));          // block align
        BinaryPrimitives.WriteUInt16LittleEndian(header[34..], 16);                    // bits per sample
        "data"u8.CopyTo(header[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], (uint)dataBytes);
        destination.Write(header);

        var chunk = new byte[Math.Min(interleaved.Length, 64 * 1024) * bytesPerSample];
        for (var start = 0; start < interleaved.Length; start += chunk.Length / bytesPerSample)
        {
            var count = Math.Min(chunk.Length / bytesPerSample, interleaved.Length - start);
            for (var i = 0; i < count; i++)
                BinaryPrimitives.WriteInt16LittleEndian(chunk.AsSpan(i * bytesPerSample), ToPcm16(interleaved[start + i]));
            destination.Write(chunk, 0, count * bytesPerSample);
        }
    }

    /// <summary>Writes a waveform to a file, replacing it.</summary>
    public static void Write(string path, Tensor waveform, int sampleRate)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = File.Create(path);
        Write(file, waveform, sampleRate);
    }

    /// <summary>One float sample in [−1, 1] (clamped; NaN becomes 0) → a 16-bit PCM value.</summary>
    public static short ToPcm16(float sample)
    {
        if (float.IsNaN(sample)) return 0;
        var clamped = Math.Clamp(sample, -1f, 1f);
        return (short)Math.Round(clamped * 32767.0, MidpointRounding.ToEven);
    }
}
