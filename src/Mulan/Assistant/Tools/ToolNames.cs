using System.Text.RegularExpressions;

namespace Mulan.Assistant.Tools;

/// <summary>Tool names as every vendor's tool calling accepts them: <c>^[A-Za-z0-9_-]{1,64}$</c>, unique within a set.</summary>
public static partial class ToolNames
{
    public const int MaxLength = 64;

    public static bool IsValid(string name) => Valid().IsMatch(name);

    /// <summary>The name with every other character replaced by <c>_</c>, cut to 64; <paramref name="fallback"/> when nothing is left.</summary>
    public static string Sanitize(string name, string fallback = "tool")
    {
        var s = Invalid().Replace(name, "_").Trim('_');
        s = s.Length == 0 ? fallback : s;
        return s.Length > MaxLength ? s[..MaxLength] : s;
    }

    /// <summary><paramref name="name"/>, or with <c>_2</c>, <c>_3</c>… appended (still at most 64 characters) when taken.</summary>
    public static string Unique(string name, ISet<string> taken)
    {
        var candidate = name;
        for (var i = 2; !taken.Add(candidate); i++)
        {
            var suffix = $"_{i}";
            candidate = (name.Length + suffix.Length > MaxLength ? name[..(MaxLength - suffix.Length)] : name) + suffix;
        }
        return candidate;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex Valid();

    [GeneratedRegex("[^A-Za-z0-9_-]+")]
    private static partial Regex Invalid();
}
