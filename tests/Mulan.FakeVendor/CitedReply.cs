using System.Text.RegularExpressions;

namespace Mulan.FakeVendor;

/// <summary>What a well-behaved grounded model answers (<c>+cite</c>), computed from the prompt it is given.</summary>
internal static partial class CitedReply
{
    [GeneratedRegex(@"<source n=""1""[^>]*>\n(?<text>[\s\S]*?)\n</source>")]
    private static partial Regex FirstSource();

    [GeneratedRegex(@"^.+?[。！？]|^.+?[.!?](?=\s|$)|^.+$", RegexOptions.Multiline)]
    private static partial Regex FirstSentence();

    public static string For(string prompt)
    {
        if (FirstSource().Match(prompt) is { Success: true } source)
        {
            var sentence = FirstSentence().Match(source.Groups["text"].Value.Trim()).Value.Trim();
            return sentence + " [1]";
        }
        // A rewrite: the last user line of the conversation, then the follow-up, as one question.
        if (prompt.IndexOf("\nFollow-up question: ", StringComparison.Ordinal) is var at and >= 0)
        {
            var previous = prompt[..at].Split('\n').LastOrDefault(l => l.StartsWith("user: ", StringComparison.Ordinal))?["user: ".Length..] ?? "";
            return (previous + " " + prompt[(at + "\nFollow-up question: ".Length)..]).Trim();
        }
        // A grounded answer prompt that quotes no source.
        return prompt.Contains("Question:", StringComparison.Ordinal) ? "NOT_FOUND" : prompt;
    }
}
