namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>How a <see cref="MixedTextAnalyzer"/> treats each kind of text.</summary>
public sealed record MixedTextAnalyzerOptions
{
    /// <summary>
    /// Apply <see cref="CharacterFolding"/> (NFKC, case folding, Traditional to Simplified) before anything else.
    /// When false the text is only lower-cased. Default true.
    /// </summary>
    public bool Fold { get; init; } = true;

    /// <summary>Terms made from runs of CJK characters. Default unigrams and bigrams.</summary>
    public CjkTerms Cjk { get; init; } = CjkTerms.Unigrams | CjkTerms.Bigrams;

    /// <summary>The word segmenter behind <see cref="CjkTerms.Words"/>; required when that flag is set.</summary>
    public IWordSegmenter? Segmenter { get; init; }

    /// <summary>Reduce ASCII words with the Porter stemmer (connections -> connect). Default true.</summary>
    public bool Stem { get; init; } = true;

    /// <summary>Drop the most common English function words (Lucene's English stop set). Default true.</summary>
    public bool RemoveEnglishStopWords { get; init; } = true;
}
