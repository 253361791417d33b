using System.Text.RegularExpressions;

namespace Mulan.Apps.Runtime;

/// <summary>
/// Follow-up questions ("那第二條呢？", "what about the second one?") mean little to retrieval on their own. A question
/// that reads like one is turned into a standalone query: by the app's chat model when it has one (a metered call, made
/// only for questions that need it), else by joining it to the end user's previous question, which keyword retrieval
/// handles well.
/// </summary>
public static partial class FollowUps
{
    // Pronouns and references that lean on an earlier turn, in Chinese (both scripts) and English.
    [GeneratedRegex(@"^(那|那麼|那么|还有|還有|另外|其他|其它|它|他們|他们|這個|这个|這些|这些|那個|那个|該|该)|第[一二三四五六七八九十百\d]+[條条項项點点個个章节節款]|呢[？?]?\s*$|\b(it|its|that|those|these|they|them|the (first|second|third|last|other)( one)?|what about|how about|and the)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Reference();

    public const string RewriteInstructions = """
        Rewrite the user's last question as one standalone question that can be understood without the conversation, keeping its language and script.
        Resolve pronouns and references such as "the second one" from the conversation. Reply with the question only.
        """;

    /// <summary>The conversation and the follow-up in one message: every model, whatever it does with roles, sees both.</summary>
    public static string RewritePrompt(IReadOnlyList<HistoryMessage> history, string question)
    {
        var text = new System.Text.StringBuilder("Conversation:\n");
        foreach (var m in history.TakeLast(6))
        {
            text.Append(m.Role).Append(": ").Append(m.Content.Length > 500 ? m.Content[..500] + "…" : m.Content).Append('\n');
        }
        return text.Append("\nFollow-up question: ").Append(question).ToString();
    }

    /// <summary>Whether the question leans on an earlier turn.</summary>
    public static bool NeedsContext(string question)
    {
        var trimmed = question.Trim();
        var cjk = trimmed.Count(c => c is >= '\u3400' and <= '\u9fff');
        var words = trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        return Reference().IsMatch(trimmed) || (cjk > 0 ? trimmed.Length <= 6 : words <= 3);
    }

    /// <summary>The offline rewrite: the previous question, then this one.</summary>
    public static string Join(IReadOnlyList<HistoryMessage> history, string question) =>
        history.LastOrDefault(m => m.Role == "user") is { } previous ? previous.Content.Trim() + " " + question : question;
}
