using System.Text.Json;

namespace Mulan.Bench.Retrieval;

/// <summary>A paragraph of a SQuAD-format set (DRCD, XQuAD) with its questions.</summary>
internal sealed record SquadParagraph(string Id, string Context, IReadOnlyList<SquadQuestion> Questions);

internal sealed record SquadQuestion(string Id, string Text, IReadOnlyList<AnswerSpan> Answers);

/// <summary>Where an answer sits in its paragraph, in UTF-16 characters.</summary>
internal readonly record struct AnswerSpan(int Start, int Length);

internal static class SquadSet
{
    /// <summary>
    /// Reads <c>data[].paragraphs[].{context, qas[].{id, question, answers[].{text, answer_start}}}</c>. An answer
    /// whose offset does not point at its text is looked up by text instead (first occurrence) and dropped if absent.
    /// </summary>
    public static IReadOnlyList<SquadParagraph> Load(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        var name = Path.GetFileNameWithoutExtension(path);
        var paragraphs = new List<SquadParagraph>();
        foreach (var article in json.RootElement.GetProperty("data").EnumerateArray())
        {
            foreach (var paragraph in article.GetProperty("paragraphs").EnumerateArray())
            {
                var context = paragraph.GetProperty("context").GetString() ?? "";
                var id = paragraph.TryGetProperty("id", out var pid) ? pid.GetString()! : $"{name}:{paragraphs.Count}";
                var questions = new List<SquadQuestion>();
                foreach (var qa in paragraph.GetProperty("qas").EnumerateArray())
                {
                    var answers = new List<AnswerSpan>();
                    foreach (var answer in qa.GetProperty("answers").EnumerateArray())
                    {
                        var text = answer.GetProperty("text").GetString() ?? "";
                        var start = answer.GetProperty("answer_start").GetInt32();
                        if (start < 0 || start + text.Length > context.Length
                            || string.CompareOrdinal(context, start, text, 0, text.Length) != 0)
                        {
                            start = context.IndexOf(text, StringComparison.Ordinal);
                        }

                        if (start >= 0 && text.Length > 0)
                        {
                            answers.Add(new AnswerSpan(start, text.Length));
                        }
                    }

                    questions.Add(new SquadQuestion(qa.GetProperty("id").ToString(), qa.GetProperty("question").GetString() ?? "", answers));
                }

                paragraphs.Add(new SquadParagraph(id, context, questions));
            }
        }

        return paragraphs;
    }
}
