namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>
/// Folds text to the form the keyword index compares: NFKC (full-width ASCII to half-width, compatibility
/// ideographs and ligatures to their plain forms), Unicode case folding, Latin diacritics removed, and
/// Traditional Chinese and its Taiwan/Hong Kong variants collapsed to Simplified, so that either script finds
/// the other. Character by character, from tables generated out of OpenCC's data and the Unicode database
/// (<c>tools/generate_folding_table.py</c>), so it behaves the same with invariant globalization and needs no
/// data files at run time. Folding is idempotent.
/// </summary>
public static class CharacterFolding
{
    internal static CharacterMap Map { get; } = CharacterTables.CreateFoldMap();

    /// <summary>Folds <paramref name="text"/>; returns the same instance when nothing changes.</summary>
    public static string Fold(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Map.Map(text);
    }
}
