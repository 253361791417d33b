using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Apps.Compliance;

internal enum Script
{
    Neutral,
    Simplified,
    Traditional,
}

/// <summary>Which Chinese script a character belongs to, for writing a suggestion in the script of the text it replaces.</summary>
internal static class ChineseScripts
{
    private static readonly Lazy<CharacterMap> ToSimplifiedMap = new(CharacterTables.CreateToSimplifiedMap);
    private static readonly Lazy<CharacterMap> ToTraditionalMap = new(CharacterTables.CreateToTraditionalMap);

    /// <summary>Traditional when only conversion to Simplified changes it, Simplified when only the reverse does;
    /// neutral for characters both scripts share (第, 一) and for everything that is not Chinese.</summary>
    public static Script Of(char c)
    {
        if (c < 0x2E80)
        {
            return Script.Neutral;
        }
        var changesToSimplified = ToSimplifiedMap.Value.Lookup(c) is not null;
        var changesToTraditional = ToTraditionalMap.Value.Lookup(c) is not null;
        return changesToSimplified == changesToTraditional ? Script.Neutral
            : changesToSimplified ? Script.Traditional : Script.Simplified;
    }

    public static Script Of(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (Of(c) is not Script.Neutral and var script)
            {
                return script;
            }
        }
        return Script.Neutral;
    }

    public static string To(Script script, string text) => script switch
    {
        Script.Traditional => ChineseScript.ToTraditional(text),
        Script.Simplified => ChineseScript.ToSimplified(text),
        _ => text,
    };
}
