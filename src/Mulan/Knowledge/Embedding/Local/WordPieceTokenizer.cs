using System.Buffers;
using System.Globalization;
using System.Text;

namespace Mulan.Knowledge.Embedding.Local;

/// <summary>
/// The uncased BERT tokenizer (basic tokenizer + WordPiece) that all-MiniLM-L6-v2 was trained with, written to give
/// the same ids as Hugging Face's <c>BertTokenizerFast</c> with <c>do_lower_case=True</c>, which is what
/// sentence-transformers runs. Ours exists because the tokenizer inside the model's NuGet package drops CJK
/// characters, so Chinese text would embed as if it were empty.
/// </summary>
/// <remarks>
/// Steps, in Hugging Face's order: drop NUL, U+FFFD and control/format/unassigned code points and map whitespace to
/// a space; put spaces around every CJK ideograph so each becomes its own word; strip accents (NFD, then drop
/// non-spacing marks); lowercase code point by code point; split on whitespace and punctuation; then greedy
/// longest-match-first WordPiece with <c>##</c> continuations. Two deliberate choices: literal "[CLS]" and the like in
/// the text are ordinary text here (documents must not be able to inject control tokens), and lowercasing is per
/// code point like the Rust tokenizer (no Greek final-sigma rule, which only the slow Python tokenizer applies).
/// Immutable after construction, so one instance serves any number of threads.
/// </remarks>
public sealed class WordPieceTokenizer
{
    /// <summary>Hugging Face's <c>max_input_chars_per_word</c>: longer words become one [UNK] instead of hundreds of pieces.</summary>
    public const int DefaultMaxCharsPerWord = 100;

    private const string ContinuationPrefix = "##";

    private readonly string[] _tokens;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _wordStarts;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuations;
    // No vocabulary entry is longer than these, so the longest-match search never tries longer slices.
    private readonly int _maxWordStartLength;
    private readonly int _maxContinuationLength;
    private readonly int _maxCharsPerWord;

    private WordPieceTokenizer(string[] tokens, int maxCharsPerWord)
    {
        _tokens = tokens;
        _maxCharsPerWord = maxCharsPerWord;
        var wordStarts = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        var continuations = new Dictionary<string, int>(tokens.Length / 4, StringComparer.Ordinal);
        for (var id = 0; id < tokens.Length; id++)
        {
            // A later duplicate wins, as in Hugging Face's load_vocab.
            var token = tokens[id];
            wordStarts[token] = id;
            _maxWordStartLength = Math.Max(_maxWordStartLength, token.Length);
            // Continuations are also keyed without "##", so a lookup is a slice of the word and no string is built
            // per try.
            if (token.Length > ContinuationPrefix.Length && token.StartsWith(ContinuationPrefix, StringComparison.Ordinal))
            {
                continuations[token[ContinuationPrefix.Length..]] = id;
                _maxContinuationLength = Math.Max(_maxContinuationLength, token.Length - ContinuationPrefix.Length);
            }
        }
        _wordStarts = wordStarts.GetAlternateLookup<ReadOnlySpan<char>>();
        _continuations = continuations.GetAlternateLookup<ReadOnlySpan<char>>();
        UnknownId = RequireId(wordStarts, "[UNK]");
        ClassId = RequireId(wordStarts, "[CLS]");
        SeparatorId = RequireId(wordStarts, "[SEP]");
        PaddingId = RequireId(wordStarts, "[PAD]");
    }

    public int UnknownId { get; }

    public int ClassId { get; }

    public int SeparatorId { get; }

    public int PaddingId { get; }

    public int VocabularySize => _tokens.Length;

    /// <summary>Builds a tokenizer from a BERT <c>vocab.txt</c>: one token a line, the line number being its id.</summary>
    /// <param name="lines">The vocabulary's lines in order; a trailing '\r' (CRLF files) is removed.</param>
    /// <param name="maxCharsPerWord">Words of more code points than this become a single [UNK].</param>
    public static WordPieceTokenizer FromVocab(IEnumerable<string> lines, int maxCharsPerWord = DefaultMaxCharsPerWord)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCharsPerWord, 1);
        // Ids are line numbers, so blank lines are kept as (unmatchable) entries rather than skipped.
        var tokens = lines.Select(l => l.TrimEnd('\r', '\n')).ToArray();
        return new WordPieceTokenizer(tokens, maxCharsPerWord);
    }

    /// <summary>
    /// The model input for one text: [CLS], its word pieces, [SEP]. Longer texts keep their first
    /// <paramref name="maxTokens"/> - 2 pieces, so [SEP] always ends the sequence as the model was trained.
    /// </summary>
    public int[] Encode(string text, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 2);
        var ids = new List<int>(Math.Min(maxTokens, text.Length + 2)) { ClassId };
        AppendPieces(text, ids, maxTokens - 2);
        ids.Add(SeparatorId);
        return [.. ids];
    }

    /// <summary>The word pieces of a text as strings, without [CLS]/[SEP] or truncation: for tests and diagnostics.</summary>
    public IReadOnlyList<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        AppendPieces(text, ids, int.MaxValue);
        return [.. ids.Select(id => _tokens[id])];
    }

    /// <summary>The vocabulary entry for an id.</summary>
    public string GetToken(int id) => _tokens[id];

    private static int RequireId(Dictionary<string, int> vocab, string token) =>
        vocab.TryGetValue(token, out var id)
            ? id
            : throw new ArgumentException($"The vocabulary has no {token} token.", nameof(vocab));

    private void AppendPieces(string text, List<int> ids, int budget)
    {
        if (text.Length == 0 || budget <= 0)
        {
            return;
        }
        var start = ids.Count;
        var normalized = Normalize(text);
        var span = normalized.AsSpan();
        var i = 0;
        while (i < span.Length && ids.Count - start < budget)
        {
            // Skip whitespace, then take the run up to the next whitespace or punctuation; a punctuation code point
            // is a word by itself.
            Rune.DecodeFromUtf16(span[i..], out var rune, out var consumed);
            if (Rune.IsWhiteSpace(rune))
            {
                i += consumed;
                continue;
            }
            var wordStart = i;
            if (IsPunctuation(rune))
            {
                i += consumed;
            }
            else
            {
                i += consumed;
                while (i < span.Length)
                {
                    Rune.DecodeFromUtf16(span[i..], out rune, out consumed);
                    if (Rune.IsWhiteSpace(rune) || IsPunctuation(rune))
                    {
                        break;
                    }
                    i += consumed;
                }
            }
            AppendWord(span[wordStart..i], ids, budget - (ids.Count - start));
        }
    }

    private void AppendWord(ReadOnlySpan<char> word, List<int> ids, int budget)
    {
        // The limit counts code points, as Python and Rust strings do, not UTF-16 units.
        var codePoints = word.Length;
        foreach (var c in word)
        {
            if (char.IsLowSurrogate(c))
            {
                codePoints--;
            }
        }
        if (codePoints > _maxCharsPerWord)
        {
            ids.Add(UnknownId);
            return;
        }
        var first = ids.Count;
        var start = 0;
        while (start < word.Length)
        {
            var lookup = start == 0 ? _wordStarts : _continuations;
            var end = Math.Min(word.Length, start + (start == 0 ? _maxWordStartLength : _maxContinuationLength));
            var found = -1;
            for (; end > start; end--)
            {
                // Never cut a surrogate pair: the reference tokenizers step by code point.
                if (end < word.Length && char.IsLowSurrogate(word[end]))
                {
                    continue;
                }
                if (lookup.TryGetValue(word[start..end], out var id))
                {
                    found = id;
                    break;
                }
            }
            if (found < 0)
            {
                // One unmatchable piece makes the whole word unknown, as in BERT.
                ids.RemoveRange(first, ids.Count - first);
                ids.Add(UnknownId);
                return;
            }
            ids.Add(found);
            start = end;
        }
        // Truncation cuts word pieces, not words, so a word that straddles the limit keeps its leading pieces.
        if (ids.Count - first > budget)
        {
            ids.RemoveRange(first + budget, ids.Count - first - budget);
        }
    }

    /// <summary>Hugging Face's BertNormalizer: clean, isolate CJK ideographs, strip accents, lowercase.</summary>
    private static string Normalize(string text)
    {
        // Each input code point becomes at most itself with a space either side, so three times the length is enough.
        var buffer = ArrayPool<char>.Shared.Rent(checked(text.Length * 3));
        try
        {
            var length = 0;
            var ascii = true;
            var input = text.AsSpan();
            while (!input.IsEmpty)
            {
                // A lone surrogate decodes as U+FFFD and is dropped with it, as the reference drops category Cs.
                Rune.DecodeFromUtf16(input, out var rune, out var consumed);
                input = input[consumed..];
                var value = rune.Value;
                if (value == 0 || value == 0xFFFD || IsControl(rune))
                {
                    continue;
                }
                if (IsWhitespace(rune))
                {
                    buffer[length++] = ' ';
                    continue;
                }
                var cjk = IsCjkIdeograph(value);
                if (cjk)
                {
                    buffer[length++] = ' ';
                }
                length += rune.EncodeToUtf16(buffer.AsSpan(length));
                if (cjk)
                {
                    buffer[length++] = ' ';
                }
                ascii &= value < 0x80;
            }
            if (ascii)
            {
                // The common English case: nothing to decompose, and ASCII lowercasing is the whole job.
                var lowered = buffer.AsSpan(0, length);
                for (var k = 0; k < lowered.Length; k++)
                {
                    lowered[k] = char.ToLowerInvariant(lowered[k]);
                }
                return new string(lowered);
            }
            var decomposed = new string(buffer, 0, length).Normalize(NormalizationForm.FormD);
            return StripMarksAndLowercase(decomposed);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private static string StripMarksAndLowercase(string decomposed)
    {
        var builder = new StringBuilder(decomposed.Length);
        Span<char> encoded = stackalloc char[2];
        var input = decomposed.AsSpan();
        while (!input.IsEmpty)
        {
            Rune.DecodeFromUtf16(input, out var rune, out var consumed);
            input = input[consumed..];
            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }
            // Simple per-code-point mapping; the one full mapping that differs (U+0130) was already decomposed by NFD.
            var written = Rune.ToLowerInvariant(rune).EncodeToUtf16(encoded);
            builder.Append(encoded[..written]);
        }
        return builder.ToString();
    }

    private static bool IsWhitespace(Rune rune) =>
        rune.Value is ' ' or '\t' or '\n' or '\r' || Rune.IsWhiteSpace(rune);

    private static bool IsControl(Rune rune)
    {
        // Tab and line breaks are control characters that BERT treats as whitespace.
        if (rune.Value is '\t' or '\n' or '\r')
        {
            return false;
        }
        // Unassigned code points (Cn) are kept, as the Rust tokenizer keeps them (the slow Python one drops them).
        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;
    }

    private static bool IsPunctuation(Rune rune)
    {
        var value = rune.Value;
        // BERT counts all non-alphanumeric printable ASCII as punctuation, "$", "^" and "`" included, which Unicode
        // files under symbols.
        if (value is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126))
        {
            return true;
        }
        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
            or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
            or UnicodeCategory.OtherPunctuation;
    }

    /// <summary>
    /// The code point ranges of Hugging Face's <c>_is_chinese_char</c>: the CJK Unified Ideographs blocks and
    /// compatibility ideographs. Kana and Hangul are not in them and tokenize like any other letters.
    /// </summary>
    private static bool IsCjkIdeograph(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
