using System.Buffers;
using System.Text;

namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>
/// A character-to-text map read from the generated tables (see <c>tools/generate_folding_table.py</c>):
/// a flat array for the Basic Multilingual Plane, a dictionary for astral code points and for values that are
/// not exactly one BMP character (empty, several characters, or astral).
/// </summary>
internal sealed class CharacterMap
{
    // Marks a BMP character whose value lives in _others. U+FFFF is a noncharacter, so it never needs mapping itself.
    private const char InOthers = '\uFFFF';

    private readonly char[] _bmp = new char[char.MaxValue + 1];
    private readonly Dictionary<int, string> _others = [];

    public CharacterMap(string ranges, string pairs, string others)
    {
        for (var c = 0; c < _bmp.Length; c++)
        {
            _bmp[c] = (char)c;
        }

        var runes = ToRunes(ranges);
        for (var i = 0; i + 2 < runes.Count; i += 3)
        {
            for (int key = runes[i], value = runes[i + 2]; key <= runes[i + 1]; key++, value++)
            {
                Set(key, char.ConvertFromUtf32(value));
            }
        }

        for (var i = 0; i + 1 < pairs.Length; i += 2)
        {
            _bmp[pairs[i]] = pairs[i + 1];
        }

        foreach (var entry in others.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var tab = entry.IndexOf('\t', StringComparison.Ordinal);
            Set(char.ConvertToUtf32(entry, 0), entry[(tab + 1)..]);
        }
    }

    /// <summary>Maps one character; <c>null</c> when it maps to itself.</summary>
    public string? Lookup(int codePoint)
    {
        if (codePoint <= char.MaxValue)
        {
            var mapped = _bmp[codePoint];
            if (mapped == InOthers)
            {
                return _others.GetValueOrDefault(codePoint);
            }

            return mapped == codePoint ? null : mapped.ToString();
        }

        return _others.GetValueOrDefault(codePoint);
    }

    public string Map(string text)
    {
        char[]? rented = null;
        var buffer = text.Length <= 256 ? stackalloc char[512] : (rented = ArrayPool<char>.Shared.Rent(text.Length * 2 + 16));
        var length = Map(text, ref buffer, ref rented);
        var result = buffer[..length].SequenceEqual(text) ? text : new string(buffer[..length]);
        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }

        return result;
    }

    /// <summary>
    /// Maps <paramref name="text"/> into <paramref name="buffer"/>, growing it from the shared pool when a value is
    /// longer than its key (the caller returns <paramref name="rented"/> when it is not null). Returns the length.
    /// </summary>
    public int Map(ReadOnlySpan<char> text, ref Span<char> buffer, ref char[]? rented)
    {
        var length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var mapped = _bmp[c];
            if (mapped != InOthers && !char.IsHighSurrogate(c))
            {
                Append(ref buffer, ref rented, ref length, mapped);
                continue;
            }

            string? value;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                value = _others.GetValueOrDefault(char.ConvertToUtf32(c, text[i + 1]));
                if (value is null)
                {
                    Append(ref buffer, ref rented, ref length, c);
                    Append(ref buffer, ref rented, ref length, text[i + 1]);
                }

                i++;
            }
            else
            {
                value = _others.GetValueOrDefault(c);
                if (value is null)
                {
                    Append(ref buffer, ref rented, ref length, c);
                }
            }

            foreach (var v in value ?? string.Empty)
            {
                Append(ref buffer, ref rented, ref length, v);
            }
        }

        return length;
    }

    private static void Append(ref Span<char> buffer, ref char[]? rented, ref int length, char c)
    {
        if (length == buffer.Length)
        {
            var bigger = ArrayPool<char>.Shared.Rent(buffer.Length * 2);
            buffer.CopyTo(bigger);
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }

            rented = bigger;
            buffer = bigger;
        }

        buffer[length++] = c;
    }

    private void Set(int key, string value)
    {
        if (key <= char.MaxValue && value.Length == 1 && !char.IsSurrogate(value[0]))
        {
            _bmp[key] = value[0];
            return;
        }

        if (key <= char.MaxValue)
        {
            _bmp[key] = InOthers;
        }

        _others[key] = value;
    }

    private static List<int> ToRunes(string text)
    {
        var runes = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            runes.Add(rune.Value);
        }

        return runes;
    }
}
