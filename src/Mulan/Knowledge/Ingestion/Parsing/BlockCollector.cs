namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Accumulates blocks in reading order while tracking the heading stack that gives each block its
/// section path. It normalizes every text, drops empty ones, enforces <see cref="ParseLimits.MaxTextChars"/>
/// and checks the cancellation token on every block, so parsers' loops honour cancellation for free.
/// </summary>
internal sealed class BlockCollector(ParseLimits limits, CancellationToken ct)
{
    private readonly List<DocumentBlock> _blocks = [];
    private readonly List<(int Level, string Text)> _sections = [];
    private IReadOnlyList<string> _path = [];
    private long _chars;

    public IReadOnlyList<DocumentBlock> Blocks => _blocks;

    /// <summary>The text of the first heading added, a title candidate for formats without metadata.</summary>
    public string? FirstHeading { get; private set; }

    public CancellationToken CancellationToken => ct;

    /// <summary>Adds a heading at <paramref name="level"/> (1 = outermost) and makes it the current section.</summary>
    public void Heading(int level, string text, int? page)
    {
        var clean = TextNormalizer.Inline(text);
        if (clean.Length == 0)
        {
            return;
        }

        PushSection(level, clean);
        FirstHeading ??= clean;
        Append(BlockKind.Heading, clean, page);
    }

    /// <summary>Makes <paramref name="text"/> the section at <paramref name="level"/> without emitting a heading block.</summary>
    public void EnterSection(int level, string text)
    {
        var clean = TextNormalizer.Inline(text);
        if (clean.Length > 0)
        {
            Charge(clean.Length);
            PushSection(level, clean);
        }
    }

    private void PushSection(int level, string clean)
    {
        while (_sections.Count > 0 && _sections[^1].Level >= level)
        {
            _sections.RemoveAt(_sections.Count - 1);
        }

        _sections.Add((level, clean));
        _path = _sections.Select(s => s.Text).ToArray();
    }

    /// <summary>Forgets all open sections (each slide or sheet starts afresh).</summary>
    public void ResetSections()
    {
        _sections.Clear();
        _path = [];
    }

    public void Add(BlockKind kind, string text, int? page)
    {
        var clean = kind switch
        {
            BlockKind.Code => TextNormalizer.Verbatim(text),
            BlockKind.Heading => TextNormalizer.Inline(text),
            _ => TextNormalizer.Lines(text),
        };
        if (clean.Length > 0)
        {
            Append(kind, clean, page);
        }
    }

    /// <summary>Splits plain text on blank lines and adds each paragraph.</summary>
    public void AddParagraphs(string text, int? page)
    {
        foreach (var paragraph in SplitParagraphs(text))
        {
            Add(BlockKind.Paragraph, paragraph, page);
        }
    }

    /// <summary>Fails early when a document is about to produce more text than allowed.</summary>
    public void Charge(long chars)
    {
        ct.ThrowIfCancellationRequested();
        _chars += chars;
        if (_chars > limits.MaxTextChars)
        {
            throw new DocumentParseException($"document text exceeds {ByteSize.Number(limits.MaxTextChars)} characters");
        }
    }

    internal static IEnumerable<string> SplitParagraphs(string text)
    {
        var start = 0;
        var lineStart = 0;
        var blankSeen = false;
        for (var i = 0; i <= text.Length; i++)
        {
            if (i < text.Length && text[i] != '\n')
            {
                continue;
            }

            var line = text.AsSpan(lineStart, i - lineStart);
            if (line.IsWhiteSpace())
            {
                blankSeen = true;
            }
            else if (blankSeen)
            {
                yield return text[start..lineStart];
                start = lineStart;
                blankSeen = false;
            }

            lineStart = i + 1;
        }

        if (start < text.Length)
        {
            yield return text[start..];
        }
    }

    private void Append(BlockKind kind, string text, int? page)
    {
        Charge(text.Length);
        _blocks.Add(new DocumentBlock(kind, text, _path, page));
    }
}
