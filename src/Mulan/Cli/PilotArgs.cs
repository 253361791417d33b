using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mulan.Evaluations;
using Mulan.Pilots;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>
/// Reads the values of <c>mulan pilot</c> flags into the request shapes of <c>/api/pilots</c>. Each bad value is a
/// <see cref="CliUserException"/> naming its flag, raised while the settings are validated, so nothing is sent.
/// </summary>
internal static partial class PilotArgs
{
    /// <summary>Runs the parsers of a settings' validation; the first bad value is the error.</summary>
    public static ValidationResult Check(Action parse)
    {
        try
        {
            parse();
            return ValidationResult.Success();
        }
        catch (CliUserException e)
        {
            return ValidationResult.Error(e.Message);
        }
    }

    /// <summary><c>300000CNY</c> or <c>"300000 CNY"</c>: an amount (invariant, a dot for decimals) and a three-letter currency.</summary>
    public static JsonObject Money(string flag, string text)
    {
        var m = MoneyPattern().Match(text);
        if (!m.Success || !decimal.TryParse(m.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
            || amount > PilotInput.MaxAmount)
        {
            throw new CliUserException($"{flag}: '{text}' is not an amount and a currency like 300000CNY or \"2000.50 USD\"");
        }
        return new JsonObject { ["amount"] = amount, ["currency"] = m.Groups[2].Value.ToUpperInvariant() };
    }

    public static string Date(string flag, string text) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : throw new CliUserException($"{flag}: '{text}' is not a date as YYYY-MM-DD");

    /// <summary>A non-negative number with a dot for decimals, at most <paramref name="max"/>.</summary>
    public static decimal Number(string flag, string text, decimal max, bool whole = false)
    {
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint | (whole ? NumberStyles.AllowLeadingSign : NumberStyles.None), CultureInfo.InvariantCulture,
                out var d) || Math.Abs(d) > max || (whole && d != decimal.Truncate(d)))
        {
            throw new CliUserException($"{flag}: '{text}' is not {(whole ? "a whole number" : "a number of at least 0")} up to {max.ToString(CultureInfo.InvariantCulture)}");
        }
        return d;
    }

    /// <summary>The <c>--alert</c> fractions: each more than 0 and at most 10 (0.8 = 80%).</summary>
    public static JsonArray Thresholds(IEnumerable<string> given)
    {
        var thresholds = given.Select(a => Number("--alert", a, 10)).ToList();
        return thresholds.Any(t => t == 0)
            ? throw new CliUserException("--alert: a threshold must be more than 0 (0.8 = 80%)")
            : new JsonArray([.. thresholds.Select(t => (JsonNode)t)]);
    }

    public static string OneOf(string flag, string text, IReadOnlyList<string> allowed) =>
        allowed.Contains(text, StringComparer.Ordinal) ? text : throw new CliUserException($"{flag}: '{text}' is not one of {string.Join(", ", allowed)}");

    /// <summary>
    /// <c>METRIC=VALUE@SET</c>, e.g. <c>factRecall=0.8@evs_abc</c>: the latest run of the set must reach VALUE (at most
    /// VALUE for latency and cost, as with <c>eval run --fail-under</c>).
    /// </summary>
    public static JsonObject Criterion(string text)
    {
        var m = CriterionPattern().Match(text);
        if (!m.Success || !double.TryParse(m.Groups[2].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var threshold))
        {
            throw new CliUserException($"--criterion: '{text}' is not METRIC=VALUE@SET (for example factRecall=0.8@evs_abc)");
        }
        var metric = m.Groups[1].Value;
        if (!EvaluationMetrics.IsKnown(metric))
        {
            throw new CliUserException($"--criterion: unknown metric '{metric}' (known: {string.Join(", ", EvaluationMetrics.All)})");
        }
        return new JsonObject { ["metric"] = metric, ["threshold"] = threshold, ["set"] = m.Groups[3].Value };
    }

    /// <summary>One criterion as people read it: <c>factRecall ≥ 0.8 (evs_abc)</c>.</summary>
    public static string Describe(JsonNode? criterion)
    {
        var metric = criterion?["metric"]?.GetValue<string>() ?? "";
        return $"{metric} {(EvaluationMetrics.LowerIsBetter(metric) ? "≤" : "≥")} {criterion?["threshold"]} ({criterion?["set"]})";
    }

    /// <summary>An exact decimal as written in the JSON, without trailing zeros (3000.150 → 3000.15).</summary>
    public static string Amount(JsonNode? node, int? decimals = null)
    {
        if (node is not JsonValue v || !v.TryGetValue<decimal>(out var d))
        {
            return node?.ToString() ?? "—";
        }
        if (decimals is { } n)
        {
            d = Math.Round(d, n, MidpointRounding.AwayFromZero);
        }
        return d.ToString("0.############################", CultureInfo.InvariantCulture);
    }

    public static string Percent(JsonNode? ratio) =>
        ratio is JsonValue v && v.TryGetValue<decimal>(out var d) ? (d * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "—";

    /// <summary>A pilot's id: the argument when it looks like one, else the one pilot of that name.</summary>
    public static async Task<string> ResolveAsync(MulanApiClient api, string pilot, CancellationToken ct)
    {
        if (pilot.StartsWith("pilot_", StringComparison.Ordinal))
        {
            return pilot;
        }
        var list = await api.GetAsync("api/pilots", ct);
        var named = (list["pilots"] as JsonArray ?? []).OfType<JsonObject>().Where(p => p["name"]?.GetValue<string>() == pilot).ToList();
        return named.Count switch
        {
            1 => named[0]["id"]!.GetValue<string>(),
            0 => throw new CliUserException($"PILOT: no pilot with the id or name '{pilot}'"),
            _ => throw new CliUserException($"PILOT: {named.Count} pilots are named '{pilot}'; give the id ({string.Join(", ", named.Select(p => p["id"]))})"),
        };
    }

    public static string Path(string id, string rest = "") => $"api/pilots/{Uri.EscapeDataString(id)}{rest}";

    [GeneratedRegex(@"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]{3})\s*$")]
    private static partial Regex MoneyPattern();

    [GeneratedRegex(@"^\s*([A-Za-z0-9]+)\s*=\s*(\d+(?:\.\d+)?)\s*@\s*(\S+)\s*$")]
    private static partial Regex CriterionPattern();
}
