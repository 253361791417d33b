namespace Mulan.Bench.Retrieval;

/// <summary>An index under test: Mulan's <c>KeywordIndex</c>, or Lucene.Net for comparison.</summary>
internal interface IRetrievalEngine : IDisposable
{
    string Name { get; }

    /// <summary>Thread-safe.</summary>
    void Add(long id, string text);

    /// <summary>Makes everything added searchable (Lucene's commit and reopen; nothing for KeywordIndex).</summary>
    void Commit();

    /// <summary>Thread-safe. The ids of the best <paramref name="topK"/> passages, best first.</summary>
    IReadOnlyList<long> Search(string query, int topK);
}
