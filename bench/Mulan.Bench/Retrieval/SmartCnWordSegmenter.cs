using Lucene.Net.Analysis.Cn.Smart;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Util;
using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Bench.Retrieval;

/// <summary>
/// Lucene.Net's SmartCN (HMM word segmentation with a bundled dictionary, Simplified Chinese) behind
/// <see cref="IWordSegmenter"/>. The Lucene analyzer keeps one token stream per thread, so this is thread-safe.
/// </summary>
internal sealed class SmartCnWordSegmenter : IWordSegmenter, IDisposable
{
    private readonly SmartChineseAnalyzer _analyzer = new(LuceneVersion.LUCENE_48, useDefaultStopWords: false);

    public string Name => "smartcn";

    public void Segment(string run, List<string> words)
    {
        using var stream = _analyzer.GetTokenStream("body", run);
        var term = stream.AddAttribute<ICharTermAttribute>();
        stream.Reset();
        while (stream.IncrementToken())
        {
            words.Add(term.ToString());
        }

        stream.End();
    }

    public void Dispose() => _analyzer.Dispose();
}
