namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>Which terms <see cref="MixedTextAnalyzer"/> makes from a run of Chinese, Japanese or Korean characters.</summary>
[Flags]
public enum CjkTerms
{
    /// <summary>Nothing: the script is not indexed.</summary>
    None = 0,

    /// <summary>Every character on its own.</summary>
    Unigrams = 1,

    /// <summary>Every overlapping pair of characters; a run of one character gives that character.</summary>
    Bigrams = 2,

    /// <summary>The words of the analyzer's <see cref="IWordSegmenter"/>.</summary>
    Words = 4,
}
