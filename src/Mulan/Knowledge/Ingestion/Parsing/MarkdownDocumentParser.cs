using System.Text;
using System.Text.RegularExpressions;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Markdown through Markdig (CommonMark, pipe and grid tables, YAML front matter): headings build the
/// section path, paragraphs, list items, fenced and indented code (Kind Code), tables as "cell | cell" rows,
/// raw HTML blocks read like HTML. Front matter is not content; only its title is used.
/// Title: front matter title, else the first heading, else the file name.
/// </summary>
public sealed partial class MarkdownDocumentParser : IDocumentParser
{
    private const char HardBreak = '\u2028';

    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UseYamlFrontMatter()
        .UsePipeTables()
        .UseGridTables()
        .Build();

    public string Format => "markdown";

    public bool Accepts(string extension, string? mediaType, ReadOnlySpan<byte> head) =>
        FileNames.HasExtension(extension, ".md", ".markdown", ".mdown", ".mkd", ".mdx")
        || FileNames.HasMediaType(mediaType, "text/markdown", "text/x-markdown");

    public ParsedDocument Parse(Stream input, string fileName, ParseLimits limits, CancellationToken ct)
    {
        var text = TextDecoder.Decode(InputBuffer.Read(input, limits, ct));
        return ParseFailure.Guard("unreadable Markdown", () =>
        {
            var document = ParseMarkdown(text);
            ct.ThrowIfCancellationRequested();
            var collector = new BlockCollector(limits, ct);
            string? frontMatterTitle = null;
            var pending = new Stack<(Block Block, bool InList)>();
            PushChildren(pending, document, inList: false);
            while (pending.TryPop(out var item))
            {
                switch (item.Block)
                {
                    case YamlFrontMatterBlock frontMatter:
                        frontMatterTitle = FrontMatterTitle(frontMatter.Lines.ToString());
                        break;
                    case HeadingBlock heading:
                        collector.Heading(heading.Level, InlineText(heading.Inline), null);
                        break;
                    case CodeBlock code:
                        collector.Add(BlockKind.Code, code.Lines.ToString(), null);
                        break;
                    case HtmlBlock html:
                        AddHtml(html.Lines.ToString(), collector);
                        break;
                    case Table table:
                        collector.Add(BlockKind.Table, TableText(table), null);
                        break;
                    case LinkReferenceDefinitionGroup or ThematicBreakBlock or BlankLineBlock:
                        break;
                    case ListBlock list:
                        PushChildren(pending, list, inList: true);
                        break;
                    case ContainerBlock container:
                        PushChildren(pending, container, item.InList);
                        break;
                    case LeafBlock leaf:
                        collector.Add(item.InList ? BlockKind.ListItem : BlockKind.Paragraph, InlineText(leaf.Inline), null);
                        break;
                }
            }

            var title = frontMatterTitle ?? collector.FirstHeading ?? FileNames.Title(fileName);
            return new ParsedDocument(title, Format, collector.Blocks);
        });
    }

    private static MarkdownDocument ParseMarkdown(string text)
    {
        try
        {
            return Markdown.Parse(text, Pipeline);
        }
        catch (ArgumentException ex)
        {
            // Markdig refuses input nested past its depth limit with an ArgumentException.
            throw new DocumentParseException("Markdown is nested too deeply to read", ex);
        }
    }

    private static void PushChildren(Stack<(Block, bool)> pending, ContainerBlock container, bool inList)
    {
        for (var i = container.Count - 1; i >= 0; i--)
        {
            pending.Push((container[i], inList));
        }
    }

    private static void AddHtml(string html, BlockCollector collector)
    {
        HtmlNestingGuard.Check(html, collector.CancellationToken);
        using var document = HtmlDocumentParser.Parse(html, collector.CancellationToken);
        new HtmlBlockWalker(collector).Walk((AngleSharp.Dom.INode?)document.Body ?? document);
    }

    private static string TableText(Table table)
    {
        var rows = table.OfType<TableRow>()
            .Select(row => row.OfType<TableCell>().Select(cell => TextNormalizer.Inline(string.Join(' ', cell.OfType<LeafBlock>().Select(l => InlineText(l.Inline))))).ToList())
            .Where(cells => cells.Any(c => c.Length > 0))
            .Select(cells => string.Join(" | ", cells));
        return string.Join('\n', rows);
    }

    /// <summary>The text of an inline tree, walked without recursion; soft breaks stay whitespace, hard breaks become line breaks.</summary>
    private static string InlineText(ContainerInline? root)
    {
        if (root is null)
        {
            return "";
        }

        var sb = new StringBuilder();
        var pending = new Stack<Inline>();
        PushChildren(pending, root);
        while (pending.TryPop(out var inline))
        {
            switch (inline)
            {
                case LiteralInline literal:
                    sb.Append(literal.Content.AsSpan());
                    break;
                case CodeInline code:
                    sb.Append(code.Content);
                    break;
                case LineBreakInline lineBreak:
                    sb.Append(lineBreak.IsHard ? HardBreak : '\n');
                    break;
                case HtmlEntityInline entity:
                    sb.Append(entity.Transcoded.AsSpan());
                    break;
                case AutolinkInline autolink:
                    sb.Append(autolink.Url);
                    break;
                case ContainerInline container:
                    PushChildren(pending, container);
                    break;
            }
        }

        return string.Join('\n', sb.ToString().Split(HardBreak).Select(TextNormalizer.Inline).Where(l => l.Length > 0));
    }

    private static void PushChildren(Stack<Inline> pending, ContainerInline container)
    {
        for (var child = container.LastChild; child is not null; child = child.PreviousSibling)
        {
            pending.Push(child);
        }
    }

    private static string? FrontMatterTitle(string yaml)
    {
        var match = TitleLine().Match(yaml);
        var title = match.Success ? TextNormalizer.Inline(match.Groups[1].Value.Trim().Trim('"', '\'')) : "";
        return title.Length > 0 ? title : null;
    }

    [GeneratedRegex(@"^title\s*:\s*(.+?)\s*$", RegexOptions.Multiline | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex TitleLine();
}
