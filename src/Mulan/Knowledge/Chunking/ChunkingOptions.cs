namespace Mulan.Knowledge.Chunking;

/// <summary>How documents are cut into chunks. Bound from <c>Knowledge:Chunking</c>.</summary>
public sealed class ChunkingOptions
{
    public const string Section = "Knowledge:Chunking";

    /// <summary>Largest chunk in characters (a CJK character counts as one). Default 512.</summary>
    public int MaxChars { get; set; } = 512;

    /// <summary>Characters of whole sentences repeated from the end of a chunk at the start of the next one in
    /// the same section, so a fact cut at a boundary is still found whole. Default 64; 0 disables overlap.</summary>
    public int OverlapChars { get; set; } = 64;
}
