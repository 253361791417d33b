using System.Text.RegularExpressions;

namespace Mulan.Tests.Walkthrough;

/// <summary>The shell blocks of the README's walkthrough, as written.</summary>
public static partial class ReadmeBlocks
{
    [GeneratedRegex(@"^```(?<lang>[a-z]*)[ \t]*\r?\n(?<body>.*?)^```[ \t]*$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fence();

    /// <summary>Every <c>```sh</c> block between the heading <paramref name="from"/> and the next heading named
    /// <paramref name="until"/>, in order.</summary>
    public static IReadOnlyList<string> Shell(string markdown, string from, string until)
    {
        var start = markdown.IndexOf(from, StringComparison.Ordinal);
        var end = markdown.IndexOf(until, start < 0 ? 0 : start, StringComparison.Ordinal);
        if (start < 0 || end < 0)
        {
            throw new InvalidOperationException($"The README has no section from '{from}' to '{until}'.");
        }
        return [.. Fence().Matches(markdown[start..end]).Where(m => m.Groups["lang"].Value == "sh").Select(m => m.Groups["body"].Value)];
    }
}
