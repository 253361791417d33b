using System.Buffers;
using System.Collections.Frozen;

namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>
/// The analyzer for text that mixes Chinese (either script), English and numbers. Text is folded
/// (<see cref="CharacterFolding"/>), split into runs (<see cref="TextRuns"/>), and each run becomes terms:
/// CJK runs as unigrams, bigrams and/or dictionary words (<see cref="CjkTerms"/>); letter runs as lower-case,
/// optionally stemmed words; numbers as they are, thousands commas removed.
/// </summary>
public sealed class MixedTextAnalyzer : ITextAnalyzer
{
    private const int MaxWordLength = 64;

    // Lucene's EnglishAnalyzer default stop set.
    private static readonly FrozenSet<string> EnglishStopWords = FrozenSet.Create(StringComparer.Ordinal,
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
        "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
        "will", "with");

    // One string per BMP character, made on first use: CJK unigrams are a third of all terms, and the index keeps
    // one copy of each anyway. Racing writers store equal strings, so no lock is needed.
    private static readonly string?[] Characters = new string?[char.MaxValue + 1];

    private readonly MixedTextAnalyzerOptions _options;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _stopWords;

    public MixedTextAnalyzer(string name, MixedTextAnalyzerOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Cjk.HasFlag(CjkTerms.Words) && options.Segmenter is null)
        {
            throw new ArgumentException("CjkTerms.Words needs a Segmenter.", nameof(options));
        }

        Name = name;
        _options = options;
        _stopWords = EnglishStopWords.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string Name { get; }

    public MixedTextAnalyzerOptions Options => _options;

    public void Analyze(ReadOnlySpan<char> text, List<string> terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        char[]? rented = null;
        var buffer = text.Length <= 512 ? stackalloc char[1024] : (rented = ArrayPool<char>.Shared.Rent(text.Length * 2 + 16));
        try
        {
            int length;
            if (_options.Fold)
            {
                length = CharacterFolding.Map.Map(text, ref buffer, ref rented);
            }
            else
            {
                length = text.ToLowerInvariant(buffer);
            }

            var runs = new TextRuns(buffer[..length]);
            while (runs.MoveNext(out var kind, out var run))
            {
                switch (kind)
                {
                    case RunKind.Cjk:
                        AddCjk(run, terms);
                        break;
                    case RunKind.Letters:
                        AddWord(run, terms);
                        break;
                    default:
                        AddNumber(run, terms);
                        break;
                }
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private void AddCjk(ReadOnlySpan<char> run, List<string> terms)
    {
        var cjk = _options.Cjk;
        if (run.ContainsAnyInRange('\uD800', '\uDFFF'))
        {
            AddCjkWithSurrogates(run, terms);
        }
        else
        {
            if (cjk.HasFlag(CjkTerms.Unigrams) || (cjk.HasFlag(CjkTerms.Bigrams) && run.Length == 1))
            {
                foreach (var c in run)
                {
                    terms.Add(Characters[c] ??= c.ToString());
                }
            }

            if (cjk.HasFlag(CjkTerms.Bigrams))
            {
                for (var i = 0; i + 1 < run.Length; i++)
                {
                    terms.Add(new string(run.Slice(i, 2)));
                }
            }
        }

        if (cjk.HasFlag(CjkTerms.Words))
        {
            _options.Segmenter!.Segment(new string(run), terms);
        }
    }

    private void AddCjkWithSurrogates(ReadOnlySpan<char> run, List<string> terms)
    {
        var characters = new List<string>();
        foreach (var rune in run.EnumerateRunes())
        {
            characters.Add(rune.ToString());
        }

        var cjk = _options.Cjk;
        if (cjk.HasFlag(CjkTerms.Unigrams) || (cjk.HasFlag(CjkTerms.Bigrams) && characters.Count == 1))
        {
            terms.AddRange(characters);
        }

        if (cjk.HasFlag(CjkTerms.Bigrams))
        {
            for (var i = 0; i + 1 < characters.Count; i++)
            {
                terms.Add(characters[i] + characters[i + 1]);
            }
        }
    }

    private void AddWord(ReadOnlySpan<char> word, List<string> terms)
    {
        if (word.Length > MaxWordLength)
        {
            return;
        }

        if (_options.RemoveEnglishStopWords && _stopWords.Contains(word))
        {
            return;
        }

        if (!_options.Stem || word.Length <= 2 || !IsLowerAscii(word))
        {
            terms.Add(new string(word));
            return;
        }

        Span<char> stem = stackalloc char[word.Length];
        word.CopyTo(stem);
        terms.Add(new string(stem[..PorterStemmer.Stem(stem)]));
    }

    private static void AddNumber(ReadOnlySpan<char> number, List<string> terms)
    {
        if (number.Length > MaxWordLength)
        {
            return;
        }

        if (!number.Contains(','))
        {
            terms.Add(new string(number));
            return;
        }

        Span<char> digits = stackalloc char[number.Length];
        var length = 0;
        foreach (var c in number)
        {
            if (c != ',')
            {
                digits[length++] = c;
            }
        }

        terms.Add(new string(digits[..length]));
    }

    private static bool IsLowerAscii(ReadOnlySpan<char> word)
    {
        foreach (var c in word)
        {
            if (!char.IsAsciiLetterLower(c))
            {
                return false;
            }
        }

        return true;
    }
}
