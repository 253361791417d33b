using System.Globalization;
using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Bench.Retrieval;

/// <summary>
/// Every analyzer the benchmark measures: the ones Mulan ships (<see cref="TextAnalyzers"/>) and candidates that
/// need packages Mulan does not carry (jieba.NET, Lucene SmartCN). All candidates fold first, so they receive
/// Simplified Chinese, which is what both segmenters were trained on.
/// </summary>
internal static class BenchAnalyzers
{
    public static IReadOnlyList<ITextAnalyzer> Create(string? jiebaResources, ICollection<string> notes)
    {
        var analyzers = new List<ITextAnalyzer>(TextAnalyzers.Names.Select(TextAnalyzers.ByName));
        analyzers.Add(new MixedTextAnalyzer("cjk-unigram", new() { Cjk = CjkTerms.Unigrams }));

        var jieba = JiebaWordSegmenter.Create(forSearch: false, jiebaResources, out var problem);
        var jiebaSearch = JiebaWordSegmenter.Create(forSearch: true, jiebaResources, out _);
        if (jieba is null || jiebaSearch is null)
        {
            notes.Add(problem!);
        }
        else
        {
            analyzers.Add(Words("jieba", jieba, CjkTerms.Words));
            analyzers.Add(Words("jieba-search", jiebaSearch, CjkTerms.Words));
            analyzers.Add(Words("cjk-bigram+jieba", jieba, CjkTerms.Bigrams | CjkTerms.Words));
            analyzers.Add(Words("cjk-unibigram+jieba", jieba, CjkTerms.Unigrams | CjkTerms.Bigrams | CjkTerms.Words));
        }

        if (HasCultures())
        {
            var smartCn = new SmartCnWordSegmenter();
            analyzers.Add(Words("smartcn", smartCn, CjkTerms.Words));
            analyzers.Add(Words("cjk-bigram+smartcn", smartCn, CjkTerms.Bigrams | CjkTerms.Words));
        }
        else
        {
            notes.Add("smartcn skipped: its ICU4N sentence splitter needs cultures, and this process runs with "
                + "InvariantGlobalization (build with -p:InvariantGlobalization=false to include it)");
        }

        return analyzers;
    }

    private static bool HasCultures()
    {
        try
        {
            _ = CultureInfo.GetCultureInfo("zh-CN");
            return true;
        }
        catch (CultureNotFoundException)
        {
            return false;
        }
    }

    private static MixedTextAnalyzer Words(string name, IWordSegmenter segmenter, CjkTerms terms) =>
        new(name, new() { Cjk = terms, Segmenter = segmenter });
}
