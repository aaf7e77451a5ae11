using System.Buffers.Binary;
using System.Text;
using Lumina.Media;
using Lumina.Models.Vocoders;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Modalities.Tests.Media;

public sealed class WavWriterTests
{
    [Fact]
    public void WavWrittenFromAVocodedWaveformReadsBackWithTheSameSamples()
    {
        var config = BigVGANConfig.FromJson(Golden.Json("vocoder")["h"]!.ToJsonString());
        using var vocoder = new BigVGAN(config);
        vocoder.LoadCheckpoint(Golden.WeightsPath("vocoder"));
        using var cases = Golden.OpenCases("vocoder");
        using var scope = NewDisposeScope();
        var wav = vocoder.Vocode(cases.Read("mel"));                 // (1, 1, 80)
        var samples = wav.flatten().data<float>().ToArray();

        using var folder = new TempFolder();
        var path = folder.File("vocoded.wav");
        WavWriter.Write(path, wav, 16000);

        var parsed = ParseWav(File.ReadAllBytes(path));
        Assert.Equal(1, parsed.Channels);
        Assert.Equal(16000, parsed.SampleRate);
        Assert.Equal(16, parsed.BitsPerSample);
        Assert.Equal(samples.Length, parsed.Samples.Length);
        for (var i = 0; i < samples.Length; i++)
            Assert.Equal((short)Math.Round(Math.Clamp(samples[i], -1f, 1f) * 32767.0, MidpointRounding.ToEven), parsed.Samples[i]);
        Assert.Contains(parsed.Samples, s => s != 0);
    }

    [Fact]
    public void StereoIsInterleavedAndOutOfRangeSamplesClamp()
    {
        using var waveform = tensor(new float[,] { { 0f, 0.5f, 2f }, { -0.25f, -1.5f, 1f } });
        using var stream = new MemoryStream();
        WavWriter.Write(stream, waveform, 22050);
        var parsed = ParseWav(stream.ToArray());
        Assert.Equal(2, parsed.Channels);
        Assert.Equal(22050, parsed.SampleRate);
        Assert.Equal(new short[] { 0, -8192, 16384, -32767, 32767, 32767 }, parsed.Samples);
    }

    [Fact]
    public void IntegerWaveformsAndBadRatesAreRejected()
    {
        using var ints = zeros(10, dtype: ScalarType.Int32);
        using var floats = zeros(10);
        Assert.Throws<ArgumentException>(() => WavWriter.Write(new MemoryStream(), ints, 16000));
        Assert.Throws<ArgumentOutOfRangeException>(() => WavWriter.Write(new MemoryStream(), floats, 0));
    }

    private sealed record Wav(int Channels, int SampleRate, int BitsPerSample, short[] Samples);

    // A RIFF/WAVE parser written for the test: walks the chunks and checks every header field it relies on.
    private static Wav ParseWav(byte[] bytes)
    {
        Assert.Equal("RIFF", Encoding.ASCII.GetString(bytes, 0, 4));
        Assert.Equal(bytes.Length - 8, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal("WAVE", Encoding.ASCII.GetString(bytes, 8, 4));
        int channels = 0, rate = 0, bits = 0;
        short[]? samples = null;
        for (var pos = 12; pos + 8 <= bytes.Length;)
        {
            var id = Encoding.ASCII.GetString(bytes, pos, 4);
            var size = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(pos + 4));
            var body = bytes.AsSpan(pos + 8, size);
            if (id == "fmt ")
            {
                Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(body));            // PCM
                channels = BinaryPrimitives.ReadUInt16LittleEndian(body[2..]);
                rate = BinaryPrimitives.ReadInt32LittleEndian(body[4..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(body[14..]);
                Assert.Equal(rate * channels * bits / 8, BinaryPrimitives.ReadInt32LittleEndian(body[8..]));
                Assert.Equal(channels * bits / 8, BinaryPrimitives.ReadUInt16LittleEndian(body[12..]));
            }
            else if (id == "data")
            {
                samples = new short[size / 2];
                for (var i = 0; i < samples.Length; i++) samples[i] = BinaryPrimitives.ReadInt16LittleEndian(body[(2 * i)..]);
            }
            pos += 8 + size + (size & 1);
        }
        Assert.NotNull(samples);
        return new Wav(channels, rate, bits, samples!);
    }
}
