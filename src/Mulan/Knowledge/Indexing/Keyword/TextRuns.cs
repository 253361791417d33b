using System.Globalization;
using System.Text;

namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>What a run of text is: CJK characters, letters, or a number.</summary>
internal enum RunKind
{
    Cjk,
    Letters,
    Number,
}

/// <summary>
/// Splits text into runs of one kind: CJK characters (Han, kana, Hangul), letters, digits. Anything else
/// separates runs. Letters and digits split from each other (covid19 -> covid, 19, so that COVID-19 matches),
/// a number keeps its inner decimal point or thousands comma (3.14, 1,000), and an English possessive 's is dropped.
/// </summary>
internal ref struct TextRuns
{
    private readonly ReadOnlySpan<char> _text;
    private int _position;

    public TextRuns(ReadOnlySpan<char> text) => _text = text;

    public bool MoveNext(out RunKind kind, out ReadOnlySpan<char> run)
    {
        while (_position < _text.Length)
        {
            var start = _position;
            var first = KindAt(start, out var width);
            _position += width;
            if (first == CharKind.Other)
            {
                continue;
            }

            kind = first switch
            {
                CharKind.Cjk => RunKind.Cjk,
                CharKind.Digit => RunKind.Number,
                _ => RunKind.Letters,
            };
            var end = Extend(kind);
            run = _text[start..end];
            return true;
        }

        kind = default;
        run = default;
        return false;
    }

    private int Extend(RunKind kind)
    {
        while (_position < _text.Length)
        {
            var next = KindAt(_position, out var width);
            var continues = kind switch
            {
                RunKind.Cjk => next == CharKind.Cjk,
                RunKind.Letters => next is CharKind.Letter or CharKind.Mark,
                _ => next == CharKind.Digit || (next == CharKind.Other && IsNumberPunctuation(_position)),
            };
            if (continues)
            {
                _position += width;
                continue;
            }

            if (kind == RunKind.Letters && IsPossessive(_position))
            {
                var end = _position;
                _position += 2;
                return end;
            }

            break;
        }

        return _position;
    }

    private readonly bool IsNumberPunctuation(int i) =>
        _text[i] is '.' or ',' && i + 1 < _text.Length && char.IsAsciiDigit(_text[i + 1]);

    private readonly bool IsPossessive(int i) =>
        i + 1 < _text.Length && _text[i] is '\'' or '\u2019' && _text[i + 1] == 's'
        && (i + 2 == _text.Length || KindAt(i + 2, out _) is CharKind.Other or CharKind.Cjk);

    private readonly CharKind KindAt(int i, out int width)
    {
        var c = _text[i];
        width = 1;
        if (char.IsAscii(c))
        {
            return char.IsAsciiLetter(c) ? CharKind.Letter : char.IsAsciiDigit(c) ? CharKind.Digit : CharKind.Other;
        }

        if (Rune.DecodeFromUtf16(_text[i..], out var rune, out width) != System.Buffers.OperationStatus.Done)
        {
            width = 1;
            return CharKind.Other;
        }

        if (IsCjk(rune.Value))
        {
            return CharKind.Cjk;
        }

        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharKind.Letter,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark => CharKind.Mark,
            UnicodeCategory.DecimalDigitNumber => CharKind.Digit,
            _ => CharKind.Other,
        };
    }

    /// <summary>Han (with extensions and compatibility blocks), the iteration marks, kana and Hangul syllables.</summary>
    internal static bool IsCjk(int c) =>
        c is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0xF900 and <= 0xFAFF)
            or (>= 0x3040 and <= 0x30FF) or (>= 0xAC00 and <= 0xD7AF) or 0x3005 or 0x3007
            or (>= 0x20000 and <= 0x323AF);

    private enum CharKind
    {
        Other,
        Cjk,
        Letter,
        Mark,
        Digit,
    }
}
