namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>
/// Splits a run of Chinese characters into words for <see cref="MixedTextAnalyzer"/>; the seam for dictionary
/// segmenters (jieba, SmartCN). It receives folded text, which is Simplified Chinese.
/// </summary>
public interface IWordSegmenter
{
    /// <summary>A short name for analyzer names and reports.</summary>
    string Name { get; }

    /// <summary>Appends the words of <paramref name="run"/>, a run of CJK characters without spaces or punctuation.</summary>
    void Segment(string run, List<string> words);
}
