using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// HTML through AngleSharp's parser alone: no browsing context, so no script runs and nothing is fetched.
/// The charset comes from a BOM or a meta/XML declaration, else from the same guessing as plain text.
/// Title from &lt;title&gt;, else the first h1, else the file name.
/// </summary>
public sealed partial class HtmlDocumentParser : IDocumentParser
{
    private const int CharsetSniffBytes = 4096;

    public string Format => "html";

    public bool Accepts(string extension, string? mediaType, ReadOnlySpan<byte> head) =>
        FileNames.HasExtension(extension, ".html", ".htm", ".xhtml", ".shtml")
        || FileNames.HasMediaType(mediaType, "text/html", "application/xhtml+xml");

    public ParsedDocument Parse(Stream input, string fileName, ParseLimits limits, CancellationToken ct)
    {
        var data = InputBuffer.Read(input, limits, ct);
        var html = TextDecoder.Decode(data, DeclaredCharset(data));
        HtmlNestingGuard.Check(html, ct);
        return ParseFailure.Guard("unreadable HTML", () =>
        {
            using var document = Parse(html, ct);
            var collector = new BlockCollector(limits, ct);
            var walker = new HtmlBlockWalker(collector);
            walker.Walk((AngleSharp.Dom.INode?)document.Body ?? document);
            var title = TextNormalizer.Inline(document.Title ?? "");
            return new ParsedDocument(title.Length > 0 ? title : walker.FirstH1 ?? FileNames.Title(fileName), Format, collector.Blocks);
        });
    }

    /// <summary>Parses with AngleSharp alone (no browsing context: nothing runs, nothing is fetched), honouring cancellation.</summary>
    internal static IHtmlDocument Parse(string html, CancellationToken ct)
    {
        var parser = new HtmlParser(new HtmlParserOptions { IsScripting = false, SkipComments = true });

        // The asynchronous entry point checks the token between tokens; with a string source it never waits on I/O.
        return parser.ParseDocumentAsync(html, ct).GetAwaiter().GetResult();
    }

    /// <summary>The charset a page declares near its start (meta charset, http-equiv, XML declaration).</summary>
    internal static string? DeclaredCharset(ReadOnlySpan<byte> data)
    {
        var head = Encoding.Latin1.GetString(data[..Math.Min(data.Length, CharsetSniffBytes)]);
        var match = CharsetDeclaration().Match(head);
        return match.Success ? match.Groups[1].Value : null;
    }

    [GeneratedRegex(@"(?:charset|encoding)\s*=\s*[""']?\s*([A-Za-z0-9_.:\-]+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex CharsetDeclaration();
}
