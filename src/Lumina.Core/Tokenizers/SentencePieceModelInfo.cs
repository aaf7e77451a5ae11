using System.Text;

namespace Lumina.Tokenizers;

/// <summary>The SentencePiece training algorithm a <c>tokenizer.model</c> was built with.</summary>
internal enum SentencePieceModelType
{
    /// <summary>Unigram language model (T5, ALBERT, XLNet).</summary>
    Unigram = 1,

    /// <summary>Byte-pair encoding (LLaMA, Gemma).</summary>
    Bpe = 2,

    /// <summary>Whole words.</summary>
    Word = 3,

    /// <summary>Single characters.</summary>
    Char = 4,
}

/// <summary>
/// The few trainer settings of a SentencePiece <c>tokenizer.model</c> that Lumina needs and that
/// Microsoft.ML.Tokenizers 2.0.1 does not expose: the model type, the special ids as written in the file
/// (including <c>-1</c> for "absent") and the text an unknown piece decodes to.
/// </summary>
/// <remarks>
/// Own code because the library keeps its protobuf types (<c>Sentencepiece.ModelProto</c>) internal. This reads
/// only the <c>trainer_spec</c> message (field 2 of <c>ModelProto</c>) with a minimal protobuf wire-format reader,
/// and <see cref="WithBosId"/> appends one field to that message so the library can load T5-style models.
/// </remarks>
internal sealed record SentencePieceModelInfo
{
    // Field numbers of sentencepiece_model.proto (TrainerSpec).
    private const int ModelProtoTrainerSpec = 2;
    private const int FieldModelType = 3;
    private const int FieldUnkId = 40;
    private const int FieldBosId = 41;
    private const int FieldEosId = 42;
    private const int FieldPadId = 43;
    private const int FieldUnkSurface = 44;
    private const int FieldBosPiece = 46;

    /// <summary>The training algorithm (protobuf default: unigram).</summary>
    public SentencePieceModelType ModelType { get; init; } = SentencePieceModelType.Unigram;

    /// <summary>Id of the unknown piece (protobuf default 0).</summary>
    public int UnkId { get; init; }

    /// <summary>Id of the begin-of-sentence piece, or -1 when the model has none (T5).</summary>
    public int BosId { get; init; } = 1;

    /// <summary>Id of the end-of-sentence piece, or -1 when the model has none.</summary>
    public int EosId { get; init; } = 2;

    /// <summary>Id of the padding piece, or -1 when the model has none.</summary>
    public int PadId { get; init; } = -1;

    /// <summary>Number of pieces (the vocabulary size of the model file).</summary>
    public int PieceCount { get; init; }

    /// <summary>The text an unknown piece decodes to (SentencePiece's default is " \u2047 ").</summary>
    public string UnkSurface { get; init; } = " \u2047 ";

    /// <summary>Reads the trainer settings from the bytes of a <c>tokenizer.model</c> file.</summary>
    /// <param name="model">The serialized <c>ModelProto</c>.</param>
    /// <exception cref="FormatException">The bytes are not a SentencePiece model.</exception>
    public static SentencePieceModelInfo Read(ReadOnlySpan<byte> model)
    {
        var info = new SentencePieceModelInfo();
        var reader = new WireReader(model);
        bool sawTrainerSpec = false;
        int pieces = 0;
        while (!reader.End)
        {
            var (field, wireType) = reader.ReadTag();
            if (field == 1 && wireType == WireReader.LengthDelimited)
            {
                reader.ReadBytes();
                pieces++;
            }
            else if (field == ModelProtoTrainerSpec && wireType == WireReader.LengthDelimited)
            {
                // A message field that occurs more than once is merged, so later occurrences win per field.
                info = ReadTrainerSpec(reader.ReadBytes(), info);
                sawTrainerSpec = true;
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        if (!sawTrainerSpec)
        {
            throw new FormatException("The file has no SentencePiece trainer_spec; it is not a SentencePiece tokenizer.model.");
        }

        return info with { PieceCount = pieces };
    }

    /// <summary>
    /// Returns a copy of <paramref name="model"/> whose <c>trainer_spec.bos_id</c> (and <c>bos_piece</c>) point at
    /// an existing piece.
    /// </summary>
    /// <remarks>
    /// Workaround for Microsoft.ML.Tokenizers 2.0.1: the unigram constructor indexes its piece table with
    /// <c>bos_id</c>, so a model whose <c>bos_id</c> is -1 (the layout of T5's <c>spiece.model</c>) throws
    /// <see cref="IndexOutOfRangeException"/>. Pointing <c>bos_id</c> at another control piece (pad or eos) lets the
    /// library load the model; segmentation is unchanged because control pieces never take part in it. The
    /// caller must not trust the library's BOS afterwards: <see cref="SentencePieceTextTokenizer"/> keeps the
    /// model's real "no BOS" and never asks the library to add one.
    /// Protobuf merges repeated occurrences of a message field, so appending a second, tiny <c>trainer_spec</c>
    /// with only <c>bos_id</c> and <c>bos_piece</c> overrides those two fields and leaves the rest untouched.
    /// </remarks>
    /// <param name="model">The serialized <c>ModelProto</c>.</param>
    /// <param name="bosId">An id of an existing piece.</param>
    /// <param name="bosPiece">The text of that piece.</param>
    public static byte[] WithBosId(ReadOnlySpan<byte> model, int bosId, string bosPiece)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bosId);
        ArgumentNullException.ThrowIfNull(bosPiece);
        var spec = new List<byte>();
        WireWriter.WriteTag(spec, FieldBosId, WireReader.Varint);
        WireWriter.WriteVarint(spec, (ulong)bosId);
        byte[] piece = Encoding.UTF8.GetBytes(bosPiece);
        WireWriter.WriteTag(spec, FieldBosPiece, WireReader.LengthDelimited);
        WireWriter.WriteVarint(spec, (ulong)piece.Length);
        spec.AddRange(piece);

        var result = new List<byte>(model.Length + spec.Count + 8);
        result.AddRange(model.ToArray());
        WireWriter.WriteTag(result, ModelProtoTrainerSpec, WireReader.LengthDelimited);
        WireWriter.WriteVarint(result, (ulong)spec.Count);
        result.AddRange(spec);
        return result.ToArray();
    }

    /// <summary>Reads the text of piece <paramref name="id"/> from the model's piece list, or null when absent.</summary>
    /// <param name="model">The serialized <c>ModelProto</c>.</param>
    /// <param name="id">The piece id.</param>
    public static string? ReadPiece(ReadOnlySpan<byte> model, int id)
    {
        if (id < 0)
        {
            return null;
        }

        var reader = new WireReader(model);
        int index = 0;
        while (!reader.End)
        {
            var (field, wireType) = reader.ReadTag();
            if (field == 1 && wireType == WireReader.LengthDelimited)
            {
                var bytes = reader.ReadBytes();
                if (index++ == id)
                {
                    var pieceReader = new WireReader(bytes);
                    while (!pieceReader.End)
                    {
                        var (pf, pw) = pieceReader.ReadTag();
                        if (pf == 1 && pw == WireReader.LengthDelimited)
                        {
                            return Encoding.UTF8.GetString(pieceReader.ReadBytes());
                        }

                        pieceReader.Skip(pw);
                    }

                    return null;
                }
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        return null;
    }

    /// <summary>The integer fields of <c>TrainerSpec</c> this reads, by field number.</summary>
    private static readonly Dictionary<int, Func<SentencePieceModelInfo, int, SentencePieceModelInfo>> VarintFields = new()
    {
        [FieldModelType] = (info, v) => info with { ModelType = (SentencePieceModelType)v },
        [FieldUnkId] = (info, v) => info with { UnkId = v },
        [FieldBosId] = (info, v) => info with { BosId = v },
        [FieldEosId] = (info, v) => info with { EosId = v },
        [FieldPadId] = (info, v) => info with { PadId = v },
    };

    private static SentencePieceModelInfo ReadTrainerSpec(ReadOnlySpan<byte> spec, SentencePieceModelInfo info)
    {
        var reader = new WireReader(spec);
        while (!reader.End)
        {
            var (field, wireType) = reader.ReadTag();
            if (wireType == WireReader.Varint && VarintFields.TryGetValue(field, out var set))
                info = set(info, (int)reader.ReadVarint());
            else if (field == FieldUnkSurface && wireType == WireReader.LengthDelimited)
                info = info with { UnkSurface = Encoding.UTF8.GetString(reader.ReadBytes()) };
            else
                reader.Skip(wireType);
        }

        return info;
    }

    /// <summary>Just enough of the protobuf wire format to walk a message: varints and length-delimited fields.</summary>
    private ref struct WireReader
    {
        public const int Varint = 0;
        public const int Fixed64 = 1;
        public const int LengthDelimited = 2;
        public const int Fixed32 = 5;

        private readonly ReadOnlySpan<byte> _data;
        private int _position;

        public WireReader(ReadOnlySpan<byte> data)
        {
            _data = data;
            _position = 0;
        }

        public readonly bool End => _position >= _data.Length;

        public (int Field, int WireType) ReadTag()
        {
            ulong tag = ReadVarint();
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public ulong ReadVarint()
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_position >= _data.Length)
                {
                    throw new FormatException("Truncated varint in the SentencePiece model.");
                }

                byte b = _data[_position++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            throw new FormatException("Malformed varint in the SentencePiece model.");
        }

        public ReadOnlySpan<byte> ReadBytes()
        {
            ulong length = ReadVarint();
            if (length > (ulong)(_data.Length - _position))
            {
                throw new FormatException("A length-delimited field runs past the end of the SentencePiece model.");
            }

            var slice = _data.Slice(_position, (int)length);
            _position += (int)length;
            return slice;
        }

        public void Skip(int wireType)
        {
            switch (wireType)
            {
                case Varint:
                    ReadVarint();
                    break;
                case Fixed64:
                    Advance(8);
                    break;
                case LengthDelimited:
                    ReadBytes();
                    break;
                case Fixed32:
                    Advance(4);
                    break;
                default:
                    throw new FormatException($"Unsupported protobuf wire type {wireType} in the SentencePiece model.");
            }
        }

        private void Advance(int count)
        {
            if (_position + count > _data.Length)
            {
                throw new FormatException("A fixed-size field runs past the end of the SentencePiece model.");
            }

            _position += count;
        }
    }

    private static class WireWriter
    {
        public static void WriteTag(List<byte> output, int field, int wireType) => WriteVarint(output, ((ulong)field << 3) | (uint)wireType);

        public static void WriteVarint(List<byte> output, ulong value)
        {
            while (value >= 0x80)
            {
                output.Add((byte)(value | 0x80));
                value >>= 7;
            }

            output.Add((byte)value);
        }
    }
}
