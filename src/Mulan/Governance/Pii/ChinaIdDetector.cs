using System.Text.RegularExpressions;

namespace Mulan.Governance.Pii;

/// <summary>Mainland resident identity numbers (GB 11643-1999): 18 characters whose date and check character are right.</summary>
internal static partial class ChinaIdDetector
{
    private static readonly int[] Weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    private const string CheckCharacters = "10X98765432";
    private static readonly DateOnly Earliest = new(1900, 1, 1);

    // ASCII classes only: \d would also take Arabic-Indic and full-width digits, and CJK text around a number must not
    // count as part of a "letter run", so the boundary is ASCII letters and digits.
    [GeneratedRegex("(?<![0-9A-Za-z])[1-8][0-9]{16}[0-9Xx](?![0-9A-Za-z])", RegexOptions.CultureInvariant)]
    private static partial Regex Candidate();

    public static void Detect(string text, DateOnly today, List<PiiSpan> found)
    {
        foreach (var match in Candidate().EnumerateMatches(text))
        {
            if (IsValid(text.AsSpan(match.Index, match.Length), today))
            {
                found.Add(new PiiSpan(match.Index, match.Length, PiiKinds.ChinaId));
            }
        }
    }

    /// <summary>Area code starts 1–8, the birth date is real and between 1900-01-01 and today, and the check character matches.</summary>
    public static bool IsValid(ReadOnlySpan<char> id, DateOnly today)
    {
        if (id.Length != 18 || id[0] is < '1' or > '8')
        {
            return false;
        }
        var sum = 0;
        for (var i = 0; i < 17; i++)
        {
            if (!char.IsAsciiDigit(id[i]))
            {
                return false;
            }
            sum += (id[i] - '0') * Weights[i];
        }
        if (char.ToUpperInvariant(id[17]) != CheckCharacters[sum % 11])
        {
            return false;
        }
        var year = Number(id[6..10]);
        var month = Number(id[10..12]);
        var day = Number(id[12..14]);
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }
        var birth = new DateOnly(year, month, day);
        return birth >= Earliest && birth <= today;
    }

    private static int Number(ReadOnlySpan<char> digits)
    {
        var n = 0;
        foreach (var c in digits)
        {
            n = n * 10 + (c - '0');
        }
        return n;
    }
}
