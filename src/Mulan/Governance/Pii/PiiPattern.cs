using System.Text.RegularExpressions;

namespace Mulan.Governance.Pii;

/// <summary>
/// An administrator's own kind of personal data: a name and a .NET regular expression. The expression is compiled once,
/// culture-invariant, with a match timeout, so a pattern that backtracks catastrophically fails a scan with
/// <see cref="PiiPatternException"/> instead of holding a request (and a core) hostage.
/// </summary>
public sealed class PiiPattern
{
    /// <summary>The default limit on one match attempt: 100 ms.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMilliseconds(100);

    private PiiPattern(string name, Regex regex)
    {
        Name = name;
        Regex = regex;
    }

    /// <summary>The kind this pattern detects; it appears in placeholders and in rules.</summary>
    public string Name { get; }

    public Regex Regex { get; }

    /// <summary>Compiles a pattern; a bad name or an expression that does not compile is a <see cref="PiiPatternException"/>.</summary>
    /// <param name="name">lower-case ASCII letters, digits and underscores, starting with a letter, at most 32 characters.</param>
    /// <param name="timeout">limit on each match attempt; <see cref="DefaultTimeout"/> when null.</param>
    public static PiiPattern Create(string name, string pattern, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(pattern);
        if (!PiiPlaceholder.KindName().IsMatch(name))
        {
            throw new PiiPatternException(name, "the name must be lower-case letters, digits or '_', start with a letter and be at most 32 characters");
        }
        if (PiiKinds.BuiltIn.Contains(name) || name == PiiKinds.Placeholder)
        {
            throw new PiiPatternException(name, "the name is taken by a built-in kind");
        }
        try
        {
            return new PiiPattern(name, new Regex(pattern, RegexOptions.CultureInvariant, timeout ?? DefaultTimeout));
        }
        catch (ArgumentException e)
        {
            throw new PiiPatternException(name, $"the expression does not compile: {e.Message}");
        }
    }

    internal void Detect(string text, int priority, List<(PiiSpan Span, int Priority)> found)
    {
        try
        {
            foreach (var match in Regex.EnumerateMatches(text))
            {
                // An empty match (e.g. "x*") marks nothing.
                if (match.Length > 0)
                {
                    found.Add((new PiiSpan(match.Index, match.Length, Name), priority));
                }
            }
        }
        catch (RegexMatchTimeoutException)
        {
            // The text is not quoted: it is the very data being protected.
            throw new PiiPatternException(Name, $"the expression took longer than {Regex.MatchTimeout.TotalMilliseconds:0} ms on this text");
        }
    }
}

/// <summary>An administrator's PII pattern is unusable: bad name, does not compile, or timed out on a text.</summary>
public sealed class PiiPatternException(string name, string reason) : Exception($"PII pattern '{name}': {reason}")
{
    public string PatternName { get; } = name;
}
