using System.Text.Json;

namespace Mulan.Bench.Apps;

/// <summary>
/// The questions every arm is asked: the real questions of DRCD dev (Traditional Chinese), XQuAD zh and XQuAD en,
/// interleaved by dataset and shuffled with a fixed seed, so each run asks the same questions in the same order and
/// no arm is given easier ones. Nothing is picked or tuned per question.
/// </summary>
internal static class AppsQuestions
{
    public static IReadOnlyList<string> Load(string datasets, int count) => [.. LoadWithAnswers(datasets, count).Select(q => q.Question)];

    /// <summary>The same questions in the same order, each with its first gold answer (the evaluations mode's expected fact).</summary>
    public static IReadOnlyList<(string Question, string Answer)> LoadWithAnswers(string datasets, int count)
    {
        var sets = new[]
        {
            Read(Path.Combine(datasets, "drcd", "DRCD_dev.json")),
            Read(Path.Combine(datasets, "xquad", "xquad.zh.json")),
            Read(Path.Combine(datasets, "xquad", "xquad.en.json")),
        };
        var random = new Random(20_260_601);
        foreach (var set in sets)
        {
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(set));
        }

        var questions = new List<(string Question, string Answer)>(count);
        for (var i = 0; questions.Count < count && i < sets.Max(s => s.Count); i++)
        {
            questions.AddRange(sets.Where(s => i < s.Count).Select(s => s[i]));
        }

        return questions.Count > count ? questions[..count] : questions;
    }

    private static List<(string Question, string Answer)> Read(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        return [.. json.RootElement.GetProperty("data").EnumerateArray()
            .SelectMany(a => a.GetProperty("paragraphs").EnumerateArray())
            .SelectMany(p => p.GetProperty("qas").EnumerateArray())
            .Select(q => (Question: q.GetProperty("question").GetString()?.Trim() ?? "", Answer: FirstAnswer(q)))
            .Where(q => q.Question.Length > 0)];
    }

    private static string FirstAnswer(JsonElement qa) =>
        qa.TryGetProperty("answers", out var answers) && answers.GetArrayLength() > 0 ? answers[0].GetProperty("text").GetString()?.Trim() ?? "" : "";
}
