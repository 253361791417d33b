namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>The data lives in the generated <c>CharacterFolding.Table.cs</c>; this half builds the maps.</summary>
internal static partial class CharacterTables
{
    public static CharacterMap CreateFoldMap() => new(FoldRanges, FoldPairs, FoldOthers);

    public static CharacterMap CreateToSimplifiedMap() => new(ToSimplifiedRanges, ToSimplifiedPairs, ToSimplifiedOthers);

    public static CharacterMap CreateToTraditionalMap() => new(ToTraditionalRanges, ToTraditionalPairs, ToTraditionalOthers);
}
