using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Mulan.Knowledge.Answering;
using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Evaluations;

/// <summary>
/// The text form facts are compared in: the keyword index's folding (NFKC, case folding, Traditional → Simplified),
/// numbers written one way (<c>1,000</c>, <c>一千</c> and <c>1000</c> are <c>1000</c>; <c>3.50</c> is <c>3.5</c>), and no
/// whitespace or punctuation (a decimal point between digits stays). Answer and fact go through the same steps, so
/// a fact is found when its normal form is a substring of the answer's.
/// </summary>
public static partial class FactText
{
    public static string Normalize(string text)
    {
        var folded = CharacterFolding.Fold(text);
        var numerals = ChineseNumerals.Replace(folded);
        var numbers = ArabicNumber().Replace(numerals, m => CanonicalNumber(m.Value));
        var sb = new StringBuilder(numbers.Length);
        for (var i = 0; i < numbers.Length; i++)
        {
            var c = numbers[i];
            if (c == '.' && i > 0 && char.IsAsciiDigit(numbers[i - 1]) && i + 1 < numbers.Length && char.IsAsciiDigit(numbers[i + 1]))
            {
                sb.Append(c);
            }
            else if (!char.IsWhiteSpace(c) && !char.IsPunctuation(c) && !char.IsSymbol(c))
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    private static string CanonicalNumber(string s)
    {
        s = s.Replace(",", "", StringComparison.Ordinal);
        if (s.Contains('.', StringComparison.Ordinal))
        {
            s = s.TrimEnd('0').TrimEnd('.');
        }
        var trimmed = s.TrimStart('0');
        return trimmed.Length == 0 || trimmed[0] == '.' ? "0" + trimmed : trimmed;
    }

    // Thousands separators only in groups of three, so "1,2" (a list) stays two numbers.
    [GeneratedRegex(@"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")]
    private static partial Regex ArabicNumber();
}

/// <summary>Chinese numerals (<c>十五</c>, <c>一千零五</c>, <c>两万三千</c>, <c>一九九八</c>) parsed to their value.</summary>
public static class ChineseNumerals
{
    private const string Digits = "零〇一二两三四五六七八九";
    private const string Units = "十百千万亿";

    private static int DigitOf(char c) => c switch
    {
        '零' or '〇' => 0, '一' => 1, '二' or '两' => 2, '三' => 3, '四' => 4, '五' => 5, '六' => 6, '七' => 7, '八' => 8, '九' => 9, _ => -1,
    };

    public static bool IsNumeral(char c) => Digits.Contains(c) || Units.Contains(c);

    /// <summary>The value of a run of numeral characters, or null when it is not a well-formed number.</summary>
    public static long? Parse(string s)
    {
        if (s.Length == 0 || !s.All(IsNumeral))
        {
            return null;
        }
        if (!s.Any(Units.Contains))
        {
            // Digit by digit, as years and codes are written: 一九九八.
            return s.Length > 18 ? null : long.Parse(string.Concat(s.Select(c => (char)('0' + DigitOf(c)))), CultureInfo.InvariantCulture);
        }
        long total = 0, section = 0, digit = 0;
        var sawDigit = false;
        foreach (var c in s)
        {
            var d = DigitOf(c);
            if (d >= 0)
            {
                digit = d;
                sawDigit = true;
                continue;
            }
            switch (c)
            {
                case '十' or '百' or '千':
                    var unit = c == '十' ? 10 : c == '百' ? 100 : 1000;
                    // A leading 十 is 一十: 十五 = 15.
                    section += (sawDigit ? digit : 1) * unit;
                    break;
                case '万':
                    section = (section + digit) * 10_000;
                    total += section;
                    section = 0;
                    break;
                case '亿':
                    total = (total + section + digit) * 100_000_000;
                    section = 0;
                    break;
            }
            digit = 0;
            sawDigit = false;
        }
        return total + section + digit;
    }

    /// <summary>Replaces each run of numeral characters in <paramref name="text"/> with its value in Arabic digits.</summary>
    public static string Replace(string text)
    {
        if (!text.Any(IsNumeral))
        {
            return text;
        }
        var sb = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            if (!IsNumeral(text[i]))
            {
                sb.Append(text[i++]);
                continue;
            }
            var start = i;
            while (i < text.Length && IsNumeral(text[i]))
            {
                i++;
            }
            var run = text[start..i];
            sb.Append(Parse(run) is { } v ? v.ToString(CultureInfo.InvariantCulture) : run);
        }
        return sb.ToString();
    }
}

/// <summary>Whether an answer declines to answer: the grounded answer's marker and "not found" texts, and common phrases.</summary>
public static class RefusalDetector
{
    private static readonly string[] Phrases =
    [
        GroundedAnswerer.NotFoundSentinel,
        ExtractiveAnswerer.NotFound("问").Text, ExtractiveAnswerer.NotFound("q").Text,
        "没有找到", "未找到", "找不到", "无法回答", "不能回答", "无法提供", "不知道", "没有相关", "没有提及", "未提及", "无相关信息", "无法确定", "无法确认", "查无",
        "i don't know", "i do not know", "cannot answer", "can't answer", "unable to answer", "not able to answer", "no information",
        "does not contain an answer", "don't have information", "do not have information", "i'm not sure", "cannot find", "could not find", "couldn't find",
    ];

    private static readonly string[] Folded = [.. Phrases.Select(p => CharacterFolding.Fold(p))];

    /// <param name="refusalMessage">the target app's own refusal message (its guardrails), when it has one.</param>
    public static bool IsRefusal(string answer, string? refusalMessage = null)
    {
        var text = CharacterFolding.Fold(answer.Trim()).Replace('’', '\'');
        return text.Length == 0 || Folded.Any(p => text.Contains(p, StringComparison.Ordinal))
            || refusalMessage is { Length: > 0 } own && text.Contains(CharacterFolding.Fold(own.Trim()).Replace('’', '\''), StringComparison.Ordinal);
    }
}

/// <summary>Per-item scores: fact recall and source hit@k.</summary>
public static class ItemScoring
{
    public const int DefaultHitK = 5;

    /// <summary>all: the share of facts found; any: 1 when one is found. Null without expected facts.</summary>
    public static double? FactRecall(string answer, IReadOnlyList<string>? facts, string? mode)
    {
        if (facts is not { Count: > 0 })
        {
            return null;
        }
        var a = FactText.Normalize(answer);
        var found = facts.Count(f => FactText.Normalize(f) is { Length: > 0 } n && a.Contains(n, StringComparison.Ordinal));
        return mode == ExpectedFactsModes.Any ? (found > 0 ? 1 : 0) : (double)found / facts.Count;
    }

    /// <summary>1 when one of the first <paramref name="k"/> citations names an expected source (folded, with or without
    /// its file extension); null without expected sources.</summary>
    public static double? SourceHit(IReadOnlyList<string> citations, IReadOnlyList<string>? expected, int k = DefaultHitK)
    {
        if (expected is not { Count: > 0 })
        {
            return null;
        }
        var wanted = expected.SelectMany(Names).ToHashSet(StringComparer.Ordinal);
        return citations.Take(k).Any(c => Names(c).Any(wanted.Contains)) ? 1 : 0;
    }

    private static IEnumerable<string> Names(string name)
    {
        var n = CharacterFolding.Fold(name.Trim());
        yield return n;
        var dot = n.LastIndexOf('.');
        if (dot > 0)
        {
            yield return n[..dot];
        }
    }
}

/// <summary>A run's overall metrics from its item results.</summary>
public static class RunScoring
{
    public static Dictionary<string, double?> Overall(IReadOnlyList<EvaluationItemResult> items)
    {
        var answered = items.Where(i => i.Error is null).ToList();
        var latencies = answered.Select(i => i.LatencyMs).Order().ToList();
        var refusedPredicted = answered.Count(i => i.Refused);
        var shouldRefuse = answered.Count(i => i.ShouldRefuse);
        var both = answered.Count(i => i.Refused && i.ShouldRefuse);
        return new Dictionary<string, double?>(StringComparer.Ordinal)
        {
            [EvaluationMetrics.FactRecall] = Mean(answered.Select(i => i.FactRecall)),
            [EvaluationMetrics.SourceHit] = Mean(answered.Select(i => i.SourceHit)),
            [EvaluationMetrics.RefusalPrecision] = refusedPredicted == 0 ? null : (double)both / refusedPredicted,
            [EvaluationMetrics.RefusalRecall] = shouldRefuse == 0 ? null : (double)both / shouldRefuse,
            [EvaluationMetrics.AnswerLength] = Mean(answered.Select(i => (double?)i.AnswerLength)),
            [EvaluationMetrics.LatencyP50Ms] = Percentile(latencies, 0.50),
            [EvaluationMetrics.LatencyP95Ms] = Percentile(latencies, 0.95),
            [EvaluationMetrics.Cost] = (double)items.Sum(i => i.Cost),
            [EvaluationMetrics.Faithfulness] = Mean(answered.Select(i => i.Faithfulness)),
            [EvaluationMetrics.Relevance] = Mean(answered.Select(i => i.Relevance)),
        };
    }

    public static double? Mean(IEnumerable<double?> values)
    {
        var list = values.OfType<double>().ToList();
        return list.Count == 0 ? null : list.Average();
    }

    /// <summary>Nearest rank: the smallest value with at least <paramref name="p"/> of the values at or below it.</summary>
    public static double? Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return null;
        }
        var rank = (int)Math.Ceiling(p * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
