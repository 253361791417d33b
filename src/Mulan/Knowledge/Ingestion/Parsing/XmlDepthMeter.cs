namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Measures element nesting in XML bytes as they stream past, without parsing them. Package readers build
/// element trees recursively, and a few kilobytes of compressed, deeply nested XML overflow the stack, which
/// ends the process; this refuses such parts before any reader sees them. It errs towards counting deeper
/// (comments or CDATA holding '&lt;' may count as elements), never shallower. NUL bytes are skipped, so
/// UTF-16 parts are measured too.
/// </summary>
internal sealed class XmlDepthMeter(int maxDepth)
{
    private State _state;
    private byte _quote;
    private byte _previous;
    private int _depth;

    private enum State
    {
        Text,
        TagOpen,
        StartTag,
        EndTag,
        Markup,
    }

    /// <summary>Whether an entry's first bytes look like XML (optional BOM and whitespace, then '&lt;').</summary>
    public static bool LooksLikeXml(ReadOnlySpan<byte> head)
    {
        foreach (var b in head)
        {
            if (b == '<')
            {
                return true;
            }

            if (b is not (0 or 0xEF or 0xBB or 0xBF or 0xFE or 0xFF or (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return false;
    }

    public void Feed(ReadOnlySpan<byte> chunk)
    {
        foreach (var b in chunk)
        {
            if (b == 0)
            {
                continue;
            }

            switch (_state)
            {
                case State.Text when b == '<':
                    _state = State.TagOpen;
                    break;
                case State.TagOpen:
                    _state = b == '/' ? State.EndTag : b is (byte)'!' or (byte)'?' ? State.Markup : State.StartTag;
                    if (_state == State.StartTag && ++_depth > maxDepth)
                    {
                        throw new DocumentParseException($"document structure is nested more than {ByteSize.Number(maxDepth)} levels deep");
                    }

                    break;
                case State.StartTag when _quote != 0:
                    _quote = b == _quote ? (byte)0 : _quote;
                    break;
                case State.StartTag when b is (byte)'"' or (byte)'\'':
                    _quote = b;
                    break;
                case State.StartTag when b == '>':
                    _depth -= _previous == '/' ? 1 : 0;
                    _state = State.Text;
                    break;
                case State.EndTag when b == '>':
                    _depth = Math.Max(0, _depth - 1);
                    _state = State.Text;
                    break;
                case State.Markup when b == '>':
                    _state = State.Text;
                    break;
            }

            _previous = b;
        }
    }
}
