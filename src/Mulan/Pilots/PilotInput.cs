using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Evaluations;
using Mulan.Hosting.Problems;

namespace Mulan.Pilots;

/// <summary>Reads pilot request bodies field by field, naming each bad one by its JSON path; a body with any error writes nothing.</summary>
public static class PilotInput
{
    public const int MaxText = 200;
    public const int MaxDescription = 4000;
    public const decimal MaxAmount = 1_000_000_000_000m;
    public const int MaxThresholds = 10;
    public const int MaxCriteria = 20;
    public const int MaxKeys = 50;

    /// <summary>The number without trailing zeros (1.00 → 1): a threshold is stored and matched by its text, and 1.0 and 1 are one threshold.</summary>
    public static decimal Canonical(decimal d) => d / 1.0000000000000000000000000000m;

    public static void Only(JsonObject body, Dictionary<string, string[]> errors, string path, params string[] allowed)
    {
        foreach (var (name, _) in body)
        {
            if (!allowed.Contains(name, StringComparer.Ordinal))
            {
                errors.AddError($"{path}.{name}", $"unknown property (allowed: {string.Join(", ", allowed)})");
            }
        }
    }

    public static string? Text(JsonObject body, string name, string path, Dictionary<string, string[]> errors, bool required, int max = MaxText)
    {
        var node = body[name];
        if (node is null)
        {
            if (required)
            {
                errors.AddError($"{path}.{name}", "required");
            }
            return null;
        }
        if (node is not JsonValue v || !v.TryGetValue<string>(out var s) || s.Trim().Length == 0 || s.Length > max)
        {
            errors.AddError($"{path}.{name}", $"must be a non-empty string of at most {max} characters");
            return null;
        }
        return s.Trim();
    }

    public static string? OneOf(JsonObject body, string name, string path, Dictionary<string, string[]> errors, IReadOnlyList<string> allowed, bool required)
    {
        var s = Text(body, name, path, errors, required);
        if (s is not null && !allowed.Contains(s, StringComparer.Ordinal))
        {
            errors.AddError($"{path}.{name}", $"must be one of {string.Join(", ", allowed)}");
            return null;
        }
        return s;
    }

    public static decimal? Number(JsonObject body, string name, string path, Dictionary<string, string[]> errors, bool required, decimal min, decimal max)
    {
        var node = body[name];
        if (node is null)
        {
            if (required)
            {
                errors.AddError($"{path}.{name}", "required");
            }
            return null;
        }
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<decimal>(out var d))
        {
            errors.AddError($"{path}.{name}", "must be a number");
            return null;
        }
        if (d < min || d > max)
        {
            errors.AddError($"{path}.{name}", $"must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        return d;
    }

    public static DateOnly? Date(JsonObject body, string name, string path, Dictionary<string, string[]> errors, bool required)
    {
        var s = Text(body, name, path, errors, required, 10);
        if (s is null)
        {
            return null;
        }
        if (!DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
        {
            errors.AddError($"{path}.{name}", "must be a date as YYYY-MM-DD");
            return null;
        }
        return d;
    }

    public static Money? Amount(JsonObject body, string name, string path, Dictionary<string, string[]> errors, bool required, bool allowZero = true)
    {
        var node = body[name];
        if (node is null)
        {
            if (required)
            {
                errors.AddError($"{path}.{name}", "required: {amount, currency}");
            }
            return null;
        }
        if (node is not JsonObject o)
        {
            errors.AddError($"{path}.{name}", "must be an object {amount, currency}");
            return null;
        }
        var p = $"{path}.{name}";
        Only(o, errors, p, "amount", "currency");
        var amount = Number(o, "amount", p, errors, true, 0, MaxAmount);
        var currency = Currency(o, "currency", p, errors);
        if (amount == 0 && !allowZero)
        {
            errors.AddError($"{p}.amount", "must be more than 0");
        }
        return amount is { } a && currency is not null ? new Money(a, currency) : null;
    }

    public static string? Currency(JsonObject o, string name, string path, Dictionary<string, string[]> errors)
    {
        var c = Text(o, name, path, errors, true, 8);
        if (c is not null && (c.Length != 3 || !c.All(char.IsAsciiLetterUpper)))
        {
            errors.AddError($"{path}.{name}", "must be a three-letter ISO 4217 code in capitals, such as CNY or USD");
            return null;
        }
        return c;
    }

    public static IReadOnlyList<string>? Strings(JsonObject body, string name, string path, Dictionary<string, string[]> errors, int max)
    {
        if (body[name] is null)
        {
            return null;
        }
        if (body[name] is not JsonArray a || a.Count > max)
        {
            errors.AddError($"{path}.{name}", $"must be an array of at most {max} strings");
            return null;
        }
        var list = new List<string>();
        for (var i = 0; i < a.Count; i++)
        {
            if (a[i] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length is > 0 and <= MaxText)
            {
                list.Add(s);
            }
            else
            {
                errors.AddError($"{path}.{name}[{i}]", "must be a non-empty string");
            }
        }
        return list.Distinct(StringComparer.Ordinal).ToList();
    }

    public static AlertSettings? Alerts(JsonObject body, string path, Dictionary<string, string[]> errors)
    {
        if (body["alerts"] is null)
        {
            return null;
        }
        var p = path + ".alerts";
        if (body["alerts"] is not JsonObject o)
        {
            errors.AddError(p, "must be an object {thresholds, webhook?}");
            return null;
        }
        Only(o, errors, p, "thresholds", "webhook");
        var thresholds = new List<decimal>();
        if (o["thresholds"] is JsonArray a && a.Count <= MaxThresholds)
        {
            for (var i = 0; i < a.Count; i++)
            {
                if (a[i] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<decimal>(out var t) && t > 0 && t <= 10)
                {
                    thresholds.Add(t);
                }
                else
                {
                    errors.AddError($"{p}.thresholds[{i}]", "must be a fraction more than 0 and at most 10 (0.8 = 80%)");
                }
            }
        }
        else if (o["thresholds"] is not null)
        {
            errors.AddError($"{p}.thresholds", $"must be an array of at most {MaxThresholds} fractions");
        }
        string? url = null;
        if (o["webhook"] is JsonObject w)
        {
            Only(w, errors, $"{p}.webhook", "url");
            url = Text(w, "url", $"{p}.webhook", errors, true, 2000);
            if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttps && u.Scheme != Uri.UriSchemeHttp)))
            {
                errors.AddError($"{p}.webhook.url", "must be an absolute http(s) URL");
                url = null;
            }
        }
        else if (o["webhook"] is not null)
        {
            errors.AddError($"{p}.webhook", "must be an object {url}");
        }
        return new AlertSettings([.. thresholds.Select(Canonical).Distinct().Order()], url);
    }

    /// <summary>A scope item's fields (title, description, priority, owner, app, criteria) at <paramref name="path"/>.</summary>
    public static ScopeItem? Scope(JsonObject body, string path, string id, Dictionary<string, string[]> errors)
    {
        Only(body, errors, path, "title", "description", "priority", "owner", "app", "criteria");
        var title = Text(body, "title", path, errors, true);
        var description = Text(body, "description", path, errors, false, MaxDescription);
        var priority = OneOf(body, "priority", path, errors, Priorities.All, true);
        var owner = Text(body, "owner", path, errors, false);
        var app = Text(body, "app", path, errors, false);
        var criteria = new List<Criterion>();
        if (body["criteria"] is JsonArray a && a.Count <= MaxCriteria)
        {
            for (var i = 0; i < a.Count; i++)
            {
                var cp = $"{path}.criteria[{i}]";
                if (a[i] is not JsonObject c)
                {
                    errors.AddError(cp, "must be an object {metric, threshold, set}");
                    continue;
                }
                Only(c, errors, cp, "metric", "threshold", "set");
                var metric = Text(c, "metric", cp, errors, true);
                if (metric is not null && !EvaluationMetrics.IsKnown(metric))
                {
                    errors.AddError($"{cp}.metric", $"unknown metric (one of {string.Join(", ", EvaluationMetrics.All)})");
                    metric = null;
                }
                var threshold = Number(c, "threshold", cp, errors, true, 0, 1_000_000_000m);
                var set = Text(c, "set", cp, errors, true);
                if (metric is not null && threshold is { } t && set is not null)
                {
                    criteria.Add(new Criterion(metric, (double)t, set));
                }
            }
        }
        else if (body["criteria"] is not null)
        {
            errors.AddError($"{path}.criteria", $"must be an array of at most {MaxCriteria} criteria");
        }
        return title is null || priority is null ? null : new ScopeItem(id, title, description, priority, owner, app, criteria);
    }
}
