namespace Mulan.Bench.Retrieval;

/// <summary>A passage-retrieval problem: index the passages, ask each query, look for a gold passage.</summary>
internal sealed record RetrievalTask(string Name, IReadOnlyList<Passage> Passages, IReadOnlyList<TaskQuery> Queries)
{
    /// <summary>The same passages with every query text replaced (converted to the other script, say).</summary>
    public RetrievalTask WithQueries(string name, IReadOnlyList<string> texts) =>
        new(name, Passages, [.. Queries.Select((q, i) => q with { Text = texts[i] })]);
}

internal sealed record Passage(long Id, string Text);

/// <summary>A question and the passages that hold its answer; any one of them counts as found.</summary>
internal sealed record TaskQuery(string Text, IReadOnlySet<long> Gold);

internal static class RetrievalTasks
{
    /// <summary>quality.md §3 plain: every paragraph is a passage; a question's gold is its own paragraph.</summary>
    public static RetrievalTask Paragraphs(string name, IReadOnlyList<SquadParagraph> paragraphs)
    {
        var passages = new List<Passage>();
        var queries = new List<TaskQuery>();
        foreach (var paragraph in paragraphs)
        {
            var id = passages.Count;
            passages.Add(new Passage(id, paragraph.Context));
            queries.AddRange(paragraph.Questions.Select(q => new TaskQuery(q.Text, new HashSet<long> { id })));
        }

        return new RetrievalTask(name, passages, queries);
    }

    /// <summary>
    /// quality.md §3 pooled: the paragraphs of every set in one corpus, chunked to at most
    /// <paramref name="maxChunk"/> characters; a question's gold is every chunk that overlaps one of its answers.
    /// Questions whose answers could not be located are left out.
    /// </summary>
    public static RetrievalTask Pooled(string name, IEnumerable<SquadParagraph> paragraphs, int maxChunk)
    {
        var passages = new List<Passage>();
        var queries = new List<TaskQuery>();
        foreach (var paragraph in paragraphs)
        {
            var chunks = Chunker.Split(paragraph.Context, maxChunk);
            var first = passages.Count;
            passages.AddRange(chunks.Select((c, i) => new Passage(first + i, paragraph.Context.Substring(c.Start, c.Length))));
            foreach (var question in paragraph.Questions)
            {
                var gold = new HashSet<long>();
                foreach (var answer in question.Answers)
                {
                    for (var i = 0; i < chunks.Count; i++)
                    {
                        if (chunks[i].Start < answer.Start + answer.Length && answer.Start < chunks[i].Start + chunks[i].Length)
                        {
                            gold.Add(first + i);
                        }
                    }
                }

                if (gold.Count > 0)
                {
                    queries.Add(new TaskQuery(question.Text, gold));
                }
            }
        }

        return new RetrievalTask(name, passages, queries);
    }
}
