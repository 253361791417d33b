namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>What a block of extracted text is, so the chunker can keep tables and code whole.</summary>
public enum BlockKind
{
    Heading,
    Paragraph,
    Table,
    ListItem,
    Code,
}

/// <summary>
/// One unit of extracted text. SectionPath = the heading texts above this block, outermost first
/// (a Heading block's own path includes itself). Page is 1-based for paged formats (PDF pages,
/// PPTX slides) and null elsewhere.
/// </summary>
public sealed record DocumentBlock(BlockKind Kind, string Text, IReadOnlyList<string> SectionPath, int? Page);

/// <summary>A parsed upload: its title, the parser's format name and the blocks in reading order.</summary>
public sealed record ParsedDocument(string Title, string Format, IReadOnlyList<DocumentBlock> Blocks);
