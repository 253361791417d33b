using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Bench.Retrieval;

internal sealed class KeywordEngine(ITextAnalyzer analyzer) : IRetrievalEngine
{
    private readonly KeywordIndex _index = new(analyzer);

    public string Name => "KeywordIndex";

    public void Add(long id, string text) => _index.Add(id, text);

    public void Commit()
    {
    }

    public IReadOnlyList<long> Search(string query, int topK) => [.. _index.Search(query, topK).Select(h => h.ChunkId)];

    public void Dispose()
    {
    }
}
