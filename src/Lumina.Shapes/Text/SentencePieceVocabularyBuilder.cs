using System.Globalization;
using System.Text;

namespace Lumina.Training.Text;

/// <summary>
/// Builds a small SentencePiece <em>unigram</em> model (the protobuf <c>.model</c> file) from a caption corpus,
/// deterministically: one piece per whole word (<c>▁word</c>, scored by log frequency), one piece per character seen
/// (scored far lower, so words win and any new word in the corpus' alphabet still tokenizes), and Gemma's special
/// tokens (<c>&lt;pad&gt;</c> 0, <c>&lt;/s&gt;</c> 1, <c>&lt;s&gt;</c> 2, <c>&lt;unk&gt;</c> 3). The normalizer is
/// identity with a dummy prefix and whitespace collapsing. This is not sentencepiece's EM trainer; it is enough for a
/// closed-vocabulary caption language such as the shapes dataset.
/// </summary>
public static class SentencePieceVocabularyBuilder
{
    /// <summary>The whitespace marker SentencePiece uses (U+2581).</summary>
    public const string Space = "\u2581";

    /// <summary>Punctuation split off words into their own pieces.</summary>
    private const string Punctuation = ",.;:!?";

    /// <summary>Builds the model bytes for <paramref name="corpus"/>.</summary>
    /// <exception cref="ArgumentException">The corpus has no words.</exception>
    public static byte[] Build(IEnumerable<string> corpus)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var words = new Dictionary<string, long>(StringComparer.Ordinal);
        var chars = new SortedSet<string>(StringComparer.Ordinal) { Space };
        foreach (var text in corpus)
        {
            if (text is null) continue;
            foreach (var raw in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                foreach (var token in SplitPunctuation(raw))
                {
                    var piece = Punctuation.Contains(token[0], StringComparison.Ordinal) && token.Length == 1 ? token : Space + token;
                    words[piece] = words.GetValueOrDefault(piece) + 1;
                    var e = StringInfo.GetTextElementEnumerator(token);
                    while (e.MoveNext()) chars.Add((string)e.Current);
                }
            }
        }
        if (words.Count == 0) throw new ArgumentException("The corpus has no words to build a vocabulary from.", nameof(corpus));

        double total = words.Values.Sum();
        var pieces = new List<(string Piece, float Score, int Type)>
        {
            ("<pad>", 0, TypeControl), ("</s>", 0, TypeControl), ("<s>", 0, TypeControl), ("<unk>", 0, TypeUnknown),
        };
        var ordered = words.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        foreach (var (piece, count) in ordered) pieces.Add((piece, (float)Math.Log(count / total), TypeNormal));
        var floor = (float)Math.Log(1 / total) - 10;
        foreach (var c in chars)
            if (!words.ContainsKey(c)) pieces.Add((c, floor, TypeNormal));
        return Serialize(pieces);
    }

    /// <summary>Writes <c>tokenizer.model</c> plus Gemma-style <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c> into a folder.</summary>
    public static void WriteTokenizerFolder(string folder, IEnumerable<string> corpus)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "tokenizer.model"), Build(corpus));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"),
            "{\n  \"add_bos_token\": true,\n  \"add_eos_token\": false,\n  \"bos_token\": \"<s>\",\n  \"eos_token\": \"</s>\",\n  \"pad_token\": \"<pad>\",\n  \"unk_token\": \"<unk>\",\n  \"padding_side\": \"right\",\n  \"tokenizer_class\": \"GemmaTokenizer\"\n}\n");
        File.WriteAllText(Path.Combine(folder, "special_tokens_map.json"),
            "{\n  \"bos_token\": \"<s>\",\n  \"eos_token\": \"</s>\",\n  \"pad_token\": \"<pad>\",\n  \"unk_token\": \"<unk>\"\n}\n");
    }

    private static IEnumerable<string> SplitPunctuation(string word)
    {
        var start = 0;
        for (var i = 0; i < word.Length; i++)
        {
            if (!Punctuation.Contains(word[i], StringComparison.Ordinal)) continue;
            if (i > start) yield return word[start..i];
            yield return word[i].ToString();
            start = i + 1;
        }
        if (start < word.Length) yield return word[start..];
    }

    // sentencepiece_model.proto
    private const int TypeNormal = 1, TypeUnknown = 2, TypeControl = 3;

    private static byte[] Serialize(List<(string Piece, float Score, int Type)> pieces)
    {
        var model = new List<byte>();
        foreach (var (piece, score, type) in pieces)
        {
            var sp = new List<byte>();
            Bytes(sp, 1, Encoding.UTF8.GetBytes(piece));      // piece
            Tag(sp, 2, 5); sp.AddRange(BitConverter.GetBytes(score)); // score (fixed32 float, little-endian)
            Tag(sp, 3, 0); Varint(sp, (ulong)type);             // type
            Bytes(model, 1, sp.ToArray());                      // ModelProto.pieces
        }

        var trainer = new List<byte>();
        Tag(trainer, 3, 0); Varint(trainer, 1);                   // model_type = UNIGRAM
        Tag(trainer, 4, 0); Varint(trainer, (ulong)pieces.Count); // vocab_size
        Tag(trainer, 40, 0); Varint(trainer, 3);                  // unk_id
        Tag(trainer, 41, 0); Varint(trainer, 2);                  // bos_id
        Tag(trainer, 42, 0); Varint(trainer, 1);                  // eos_id
        Tag(trainer, 43, 0); Varint(trainer, 0);                  // pad_id
        Bytes(trainer, 45, "<unk>"u8.ToArray());                  // unk_piece
        Bytes(trainer, 46, "<s>"u8.ToArray());                    // bos_piece
        Bytes(trainer, 47, "</s>"u8.ToArray());                   // eos_piece
        Bytes(trainer, 48, "<pad>"u8.ToArray());                  // pad_piece
        Bytes(model, 2, trainer.ToArray());                       // ModelProto.trainer_spec

        var normalizer = new List<byte>();
        Bytes(normalizer, 1, "identity"u8.ToArray());             // name
        Tag(normalizer, 3, 0); Varint(normalizer, 1);             // add_dummy_prefix
        Tag(normalizer, 4, 0); Varint(normalizer, 1);             // remove_extra_whitespaces
        Tag(normalizer, 5, 0); Varint(normalizer, 1);             // escape_whitespaces
        Bytes(model, 3, normalizer.ToArray());                    // ModelProto.normalizer_spec
        return model.ToArray();
    }

    private static void Tag(List<byte> output, int field, int wireType) => Varint(output, ((ulong)field << 3) | (uint)wireType);

    private static void Bytes(List<byte> output, int field, byte[] value)
    {
        Tag(output, field, 2);
        Varint(output, (ulong)value.Length);
        output.AddRange(value);
    }

    private static void Varint(List<byte> output, ulong value)
    {
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }
        output.Add((byte)value);
    }
}
