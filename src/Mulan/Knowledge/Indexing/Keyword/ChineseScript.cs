namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>
/// Character-by-character conversion between Traditional and Simplified Chinese with OpenCC's default
/// (first) candidate for each character. Phrase-level choices (OpenCC's <c>t2s.json</c> phrase tables) are not
/// applied, so this is a close approximation of <c>opencc -c t2s.json</c>, not a copy; searching does not need it,
/// because <see cref="CharacterFolding"/> already makes both scripts match.
/// </summary>
public static class ChineseScript
{
    private static readonly Lazy<CharacterMap> ToSimplifiedMap = new(CharacterTables.CreateToSimplifiedMap);
    private static readonly Lazy<CharacterMap> ToTraditionalMap = new(CharacterTables.CreateToTraditionalMap);

    /// <summary>Traditional to Simplified (OpenCC TSCharacters).</summary>
    public static string ToSimplified(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ToSimplifiedMap.Value.Map(text);
    }

    /// <summary>Simplified to Traditional (OpenCC STCharacters).</summary>
    public static string ToTraditional(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ToTraditionalMap.Value.Map(text);
    }
}
