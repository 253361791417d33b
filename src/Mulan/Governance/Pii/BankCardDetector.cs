using System.Text.RegularExpressions;

namespace Mulan.Governance.Pii;

/// <summary>Payment card numbers: 13–19 digits, plain or in groups of four, that pass the Luhn check.</summary>
internal static partial class BankCardDetector
{
    [GeneratedRegex("(?<![0-9A-Za-z])[0-9]{13,19}(?![0-9A-Za-z])", RegexOptions.CultureInvariant)]
    private static partial Regex Plain();

    // Groups of four with one separator used throughout, the last group 1–4 digits; the digit count is checked after.
    [GeneratedRegex("(?<![0-9A-Za-z]|[0-9][ -])[0-9]{4}([ -])[0-9]{4}\\1[0-9]{4}(?:\\1[0-9]{4})?(?:\\1[0-9]{1,4})?(?![0-9A-Za-z]|[ -][0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex Grouped();

    public static void Detect(string text, DateOnly today, List<PiiSpan> found)
    {
        foreach (var match in Plain().EnumerateMatches(text))
        {
            Consider(text.Substring(match.Index, match.Length), match.Index, today, found);
        }
        foreach (var match in Grouped().EnumerateMatches(text))
        {
            var value = text.AsSpan(match.Index, match.Length);
            Consider(string.Concat(value.ToString().Where(char.IsAsciiDigit)), match.Index, match.Length, today, found);
        }
    }

    private static void Consider(string digits, int start, DateOnly today, List<PiiSpan> found) =>
        Consider(digits, start, digits.Length, today, found);

    private static void Consider(string digits, int start, int length, DateOnly today, List<PiiSpan> found)
    {
        if (digits.Length is >= 13 and <= 19 && Luhn(digits) && !ChinaMobileDetector.IsMobile(digits) && !ChinaIdDetector.IsValid(digits, today))
        {
            found.Add(new PiiSpan(start, length, PiiKinds.BankCard));
        }
    }

    public static bool Luhn(ReadOnlySpan<char> digits)
    {
        var sum = 0;
        var twice = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i] - '0';
            if (twice)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }
            sum += d;
            twice = !twice;
        }
        return sum % 10 == 0;
    }
}
