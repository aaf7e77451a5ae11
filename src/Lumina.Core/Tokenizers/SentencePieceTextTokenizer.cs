using System.Text;
using Microsoft.ML.Tokenizers;

namespace Lumina.Tokenizers;

/// <summary>Overrides applied when a SentencePiece tokenizer is loaded.</summary>
internal sealed record SentencePieceLoadOptions
{
    /// <summary>Whether <see cref="SentencePieceTextTokenizer.Encode"/> adds BOS; null = <c>add_bos_token</c> or the class default.</summary>
    public bool? AddBos { get; init; }

    /// <summary>Whether <see cref="SentencePieceTextTokenizer.Encode"/> adds EOS; null = <c>add_eos_token</c> or the class default.</summary>
    public bool? AddEos { get; init; }
}

/// <summary>
/// A SentencePiece tokenizer (Gemma, LLaMA, T5) on top of Microsoft.ML.Tokenizers, configured like the Hugging Face
/// tokenizer of the same folder: special ids from <c>tokenizer_config.json</c> / <c>special_tokens_map.json</c>,
/// <c>add_bos_token</c> / <c>add_eos_token</c>, and Hugging Face style truncation and padding of batches.
/// </summary>
/// <remarks>
/// Segmentation is the library's <see cref="SentencePieceTokenizer"/>. Own code fills three gaps of version 2.0.1,
/// each marked where it happens: loading unigram models without a BOS piece (T5), merging consecutive unknown
/// pieces of unigram models into one as SentencePiece does, and decoding unknown pieces to SentencePiece's
/// unknown surface (" ⁇ ") instead of dropping them. Instances are immutable and thread-safe.
/// </remarks>
public sealed class SentencePieceTextTokenizer
{
    private readonly SentencePieceTokenizer _inner;
    private readonly SentencePieceModelInfo _info;
    private readonly string[] _pieces;
    private readonly HashSet<int> _controlIds;

    private SentencePieceTextTokenizer(
        SentencePieceTokenizer inner, SentencePieceModelInfo info, int? bosId, int? eosId, int? padId, bool addBos, bool addEos)
    {
        _inner = inner;
        _info = info;
        BosId = bosId;
        EosId = eosId;
        PadId = padId;
        AddBos = addBos;
        AddEos = addEos;

        _pieces = new string[info.PieceCount];
        foreach (var (piece, id) in inner.Vocabulary)
        {
            if (id >= 0 && id < _pieces.Length)
            {
                _pieces[id] ??= piece;
            }
        }

        _controlIds = new HashSet<int>();
        foreach (int? id in new[] { bosId, eosId, padId, info.BosId, info.EosId, info.PadId })
        {
            if (id is >= 0)
            {
                _controlIds.Add(id.Value);
            }
        }
    }

    /// <summary>The Microsoft.ML.Tokenizers tokenizer that does the segmentation.</summary>
    public Tokenizer InnerTokenizer => _inner;

    /// <summary>The SentencePiece training algorithm of the model.</summary>
    internal SentencePieceModelType ModelType => _info.ModelType;

    /// <summary>Number of pieces in the model file.</summary>
    public int VocabularySize => _info.PieceCount;

    /// <summary>The BOS id, or null when the tokenizer has none (T5).</summary>
    public int? BosId { get; }

    /// <summary>The EOS id, or null when the tokenizer has none.</summary>
    public int? EosId { get; }

    /// <summary>The padding id, or null when the tokenizer has none (LLaMA).</summary>
    public int? PadId { get; }

    /// <summary>The id of the unknown piece.</summary>
    public int UnkId => _info.UnkId;

    /// <summary>Whether <see cref="Encode"/> prepends BOS when asked for special tokens.</summary>
    public bool AddBos { get; }

    /// <summary>Whether <see cref="Encode"/> appends EOS when asked for special tokens.</summary>
    public bool AddEos { get; }

    /// <summary>
    /// Loads <c>tokenizer.model</c> (or T5's <c>spiece.model</c>) from a Hugging Face tokenizer folder together with
    /// its <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c> when present.
    /// </summary>
    /// <param name="folder">The tokenizer folder (for example <c>…/snapshots/&lt;commit&gt;/tokenizer</c>).</param>
    /// <exception cref="FileNotFoundException">The folder has no SentencePiece model.</exception>
    public static SentencePieceTextTokenizer FromFolder(string folder) => FromFolder(folder, null);

    /// <summary><see cref="FromFolder(string)"/> with overrides of the BOS/EOS behaviour (tests and experiments).</summary>
    internal static SentencePieceTextTokenizer FromFolder(string folder, SentencePieceLoadOptions? options)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Tokenizer folder '{folder}' does not exist.");
        }

        string? model = new[] { "tokenizer.model", "spiece.model" }.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);
        if (model is null)
        {
            throw new FileNotFoundException(
                $"'{folder}' holds neither tokenizer.model nor spiece.model; point to the folder of a SentencePiece tokenizer.");
        }

        return Load(File.ReadAllBytes(model), HuggingFaceTokenizerConfig.Read(folder), options);
    }

    /// <summary>
    /// Loads a SentencePiece model file. The JSON files next to it are read when present, so a path inside a Hugging
    /// Face tokenizer folder behaves like <see cref="FromFolder(string)"/>.
    /// </summary>
    /// <param name="modelPath">Path of the <c>.model</c> file.</param>
    public static SentencePieceTextTokenizer FromModelFile(string modelPath) => FromModelFile(modelPath, null);

    /// <summary><see cref="FromModelFile(string)"/> with overrides of the BOS/EOS behaviour (tests and experiments).</summary>
    internal static SentencePieceTextTokenizer FromModelFile(string modelPath, SentencePieceLoadOptions? options)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        if (!File.Exists(modelPath))
        {
            throw new FileNotFoundException($"SentencePiece model '{modelPath}' does not exist.", modelPath);
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        return Load(File.ReadAllBytes(modelPath), HuggingFaceTokenizerConfig.Read(folder), options);
    }

    /// <summary>Loads a SentencePiece model from its bytes with an explicit configuration.</summary>
    /// <param name="model">The serialized model.</param>
    /// <param name="config">Special-token settings; an empty record uses the model's own ids.</param>
    /// <param name="options">Overrides of the BOS/EOS behaviour.</param>
    internal static SentencePieceTextTokenizer Load(ReadOnlySpan<byte> model, HuggingFaceTokenizerConfig config, SentencePieceLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        SentencePieceModelInfo info;
        try
        {
            info = SentencePieceModelInfo.Read(model);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"Not a SentencePiece model: {e.Message}", e);
        }

        byte[] bytes = model.ToArray();
        if (info.ModelType == SentencePieceModelType.Unigram && info.BosId < 0)
        {
            // Workaround for the Microsoft.ML.Tokenizers 2.0.1 bug with T5-style unigram models (bos_id = -1):
            // see SentencePieceModelInfo.WithBosId. The stand-in must be an existing control piece.
            int standIn = info.PadId >= 0 ? info.PadId : info.EosId >= 0 ? info.EosId : info.UnkId;
            string piece = SentencePieceModelInfo.ReadPiece(model, standIn)
                ?? throw new InvalidDataException($"The SentencePiece model has no piece {standIn}.");
            bytes = SentencePieceModelInfo.WithBosId(model, standIn, piece);
        }

        SentencePieceTokenizer inner;
        using (var stream = new MemoryStream(bytes, writable: false))
        {
            inner = SentencePieceTokenizer.Create(stream, false, false);
        }

        int? Resolve(string? token, int modelId)
        {
            if (token is not null)
            {
                if (config.AddedTokens.TryGetValue(token, out int added))
                {
                    return added;
                }

                if (inner.Vocabulary.TryGetValue(token, out int id))
                {
                    return id;
                }

                throw new InvalidDataException(
                    $"The tokenizer configuration names the special token '{token}', which is neither an added token nor a piece of the model.");
            }

            return modelId >= 0 ? modelId : null;
        }

        int? bos = Resolve(config.BosToken, info.BosId);
        int? eos = Resolve(config.EosToken, info.EosId);
        int? pad = Resolve(config.PadToken, info.PadId);

        string cls = config.TokenizerClass ?? string.Empty;
        bool isT5 = cls.StartsWith("T5", StringComparison.Ordinal);
        bool isBosFamily = cls.StartsWith("Llama", StringComparison.Ordinal) || cls.StartsWith("Gemma", StringComparison.Ordinal);
        bool addBos = options?.AddBos ?? config.AddBosToken ?? isBosFamily;
        bool addEos = options?.AddEos ?? config.AddEosToken ?? isT5;
        if (addBos && bos is null)
        {
            throw new InvalidOperationException("BOS is requested but this tokenizer has no BOS token; set AddBos = false.");
        }

        if (addEos && eos is null)
        {
            throw new InvalidOperationException("EOS is requested but this tokenizer has no EOS token; set AddEos = false.");
        }

        return new SentencePieceTextTokenizer(inner, info, bos, eos, pad, addBos, addEos);
    }

    /// <summary>Encodes one text to ids.</summary>
    /// <param name="text">The text; empty gives no text tokens.</param>
    /// <param name="addSpecialTokens">Whether to add BOS/EOS according to <see cref="AddBos"/> and <see cref="AddEos"/>.</param>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = EncodeText(text);
        if (!addSpecialTokens)
        {
            return ids;
        }

        return WithSpecials(ids, AddBos, AddEos);
    }

    /// <summary>Encodes one text to its pieces (no special tokens), e.g. <c>▁red</c> or <c>&lt;0xF0&gt;</c>.</summary>
    /// <param name="text">The text.</param>
    public IReadOnlyList<string> EncodeToPieces(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = _inner.EncodeToTokens(text, out _, addBeginningOfSentence: false, addEndOfSentence: false);
        var pieces = new List<string>(tokens.Count);
        int previous = -1;
        foreach (var token in tokens)
        {
            if (MergesUnknown && token.Id == UnkId && previous == UnkId)
            {
                pieces[^1] += token.Value;
            }
            else
            {
                pieces.Add(token.Value);
            }

            previous = token.Id;
        }

        return pieces;
    }

    /// <summary>Decodes ids to text as SentencePiece does (unknown pieces become " ⁇ ").</summary>
    /// <param name="ids">The ids.</param>
    /// <param name="skipSpecialTokens">Whether to drop BOS, EOS and padding.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var text = new StringBuilder();
        var run = new List<int>();
        bool first = true;

        // Own code: the library drops unknown pieces on decode, SentencePiece writes its unknown surface. So the ids
        // are decoded in runs between unknown pieces, and the unknown surface is written between the runs.
        void Flush()
        {
            if (run.Count == 0)
            {
                return;
            }

            string part = _inner.Decode(run, considerSpecialTokens: !skipSpecialTokens) ?? string.Empty;

            // The library drops the dummy-prefix space of the first piece it sees; only the very first piece of the
            // whole text may lose it.
            if (!first && _inner.AddDummyPrefix && _pieces[run[0]] is { } p && p.StartsWith('\u2581'))
            {
                part = " " + part;
            }

            text.Append(part);
            first = false;
            run.Clear();
        }

        foreach (int id in ids)
        {
            if (id < 0 || id >= _pieces.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), $"Id {id} is outside the vocabulary (0..{_pieces.Length - 1}).");
            }

            if (skipSpecialTokens && _controlIds.Contains(id))
            {
                continue;
            }

            if (id == UnkId)
            {
                Flush();
                text.Append(_info.UnkSurface);
                first = false;
                continue;
            }

            run.Add(id);
        }

        Flush();
        return text.ToString();
    }

    /// <summary>
    /// Tokenizes a batch with Hugging Face semantics: optional BOS/EOS, truncation that keeps the special tokens,
    /// padding (longest or max length, rounded up to a multiple) and an attention mask.
    /// </summary>
    /// <param name="texts">The texts; at least one.</param>
    /// <param name="options">Truncation and padding; null pads to the longest with the tokenizer's settings.</param>
    /// <exception cref="ArgumentException">The options cannot give a rectangular batch.</exception>
    internal TokenBatch EncodeBatch(IReadOnlyList<string> texts, TokenBatchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0)
        {
            throw new ArgumentException("Give at least one text to tokenize.", nameof(texts));
        }

        options ??= new TokenBatchOptions();
        bool addBos = options.AddBos ?? AddBos;
        bool addEos = options.AddEos ?? AddEos;
        if ((addBos && BosId is null) || (addEos && EosId is null))
        {
            throw new ArgumentException("BOS/EOS is requested but this tokenizer has no such token.", nameof(options));
        }

        int specials = (addBos ? 1 : 0) + (addEos ? 1 : 0);
        if (options.MaxLength is { } max && max < Math.Max(specials, 1))
        {
            throw new ArgumentException($"MaxLength {max} leaves no room for the {specials} special token(s).", nameof(options));
        }

        if (options.Padding == PaddingStrategy.MaxLength && options.MaxLength is null)
        {
            throw new ArgumentException("Padding to MaxLength needs MaxLength.", nameof(options));
        }

        if (options.PadToMultipleOf is <= 0)
        {
            throw new ArgumentException("PadToMultipleOf must be positive.", nameof(options));
        }

        var rows = new List<IReadOnlyList<int>>(texts.Count);
        foreach (string text in texts)
        {
            ArgumentNullException.ThrowIfNull(text, nameof(texts));
            IReadOnlyList<int> ids = EncodeText(text);
            if (options.Truncate && options.MaxLength is { } limit && ids.Count + specials > limit)
            {
                // Hugging Face truncation: cut the text tokens at the end so the special tokens still fit.
                ids = ids.Take(limit - specials).ToList();
            }

            rows.Add(WithSpecials(ids, addBos, addEos));
        }

        int longest = rows.Max(r => r.Count);
        int length = options.Padding switch
        {
            PaddingStrategy.MaxLength => options.MaxLength!.Value,
            _ => longest,
        };
        if (longest > length)
        {
            throw new ArgumentException(
                $"A text has {longest} tokens, more than MaxLength {length}; set Truncate = true or raise MaxLength.", nameof(texts));
        }

        if (options.Padding == PaddingStrategy.None && rows.Any(r => r.Count != longest))
        {
            throw new ArgumentException("The texts have different lengths; choose a padding strategy.", nameof(options));
        }

        if (options.Padding != PaddingStrategy.None && options.PadToMultipleOf is { } multiple && length % multiple != 0)
        {
            length = (length / multiple + 1) * multiple;
        }

        long padId = options.PadId ?? PadId ?? 0;
        var idsOut = new long[rows.Count * length];
        var maskOut = new long[rows.Count * length];
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            int offset = options.Side == PaddingSide.Right ? 0 : length - row.Count;
            var ids = idsOut.AsSpan(r * length, length);
            var mask = maskOut.AsSpan(r * length, length);
            ids.Fill(padId);
            for (int i = 0; i < row.Count; i++)
            {
                ids[offset + i] = row[i];
                mask[offset + i] = 1;
            }
        }

        return new TokenBatch(rows.Count, length, idsOut, maskOut);
    }

    // Unigram SentencePiece merges a run of unknown pieces into one; the library emits one per character.
    private bool MergesUnknown => _info.ModelType == SentencePieceModelType.Unigram;

    private List<int> EncodeText(string text)
    {
        var ids = _inner.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false);
        var result = new List<int>(ids.Count);
        foreach (int id in ids)
        {
            // Own code: merge consecutive unknown pieces as SentencePiece's unigram model does.
            if (MergesUnknown && id == UnkId && result.Count > 0 && result[^1] == UnkId)
            {
                continue;
            }

            result.Add(id);
        }

        return result;
    }

    private IReadOnlyList<int> WithSpecials(IReadOnlyList<int> ids, bool addBos, bool addEos)
    {
        var result = new List<int>(ids.Count + 2);
        if (addBos)
        {
            result.Add(BosId!.Value);
        }

        result.AddRange(ids);
        if (addEos)
        {
            result.Add(EosId!.Value);
        }

        return result;
    }
}
