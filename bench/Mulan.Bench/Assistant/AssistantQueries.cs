using System.Text.Json;

namespace Mulan.Bench.Assistant;

/// <summary>
/// The knowledge_search queries of the runs: the apps benchmark's real dataset questions, each used once per pass, so
/// the K calls of one run are distinct (a repeated call would be refused as such) and search costs vary as they do.
/// </summary>
internal sealed class AssistantQueries(IReadOnlyList<string> questions)
{
    private int _next;

    /// <summary>Questions with a brace are left out: the fake reads a call's arguments up to the first closing brace.</summary>
    public static AssistantQueries Load(string datasets, int count) =>
        new([.. Apps.AppsQuestions.Load(datasets, count).Where(q => q.IndexOfAny(['{', '}']) < 0 && !q.Contains("CALL", StringComparison.Ordinal)).Distinct()]);

    public int Count => questions.Count;

    public IReadOnlyList<string> Take(int count)
    {
        var taken = new List<string>(count);
        lock (questions)
        {
            for (var i = 0; i < count; i++)
            {
                taken.Add(questions[_next++ % questions.Count]);
            }
        }

        return taken;
    }

    /// <summary>A run's input: one <c>CALL knowledge_search {"query": …}</c> line per query, all in one model turn.</summary>
    public static string Input(IReadOnlyList<string> queries) =>
        string.Join("\n", queries.Select(q => "CALL knowledge_search " + JsonSerializer.Serialize(new { query = q })));
}
