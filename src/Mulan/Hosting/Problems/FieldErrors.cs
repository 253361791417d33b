using System.Globalization;

namespace Mulan.Hosting.Problems;

/// <summary>
/// Range checks for <c>/api</c> inputs, collected into the dictionary a validation problem is made of
/// (<c>TypedResults.ValidationProblem(errors)</c>), so every handler words a bad number the same way and names the
/// field. Wrong JSON types and values that do not fit the declared type never get here: model binding refuses them
/// and <see cref="ApiProblems"/> turns that into the same validation problem.
/// </summary>
public static class FieldErrors
{
    public static void AddError(this Dictionary<string, string[]> errors, string field, string message) =>
        errors[field] = [.. errors.GetValueOrDefault(field, []), message];

    /// <summary>A whole number between <paramref name="min"/> and <paramref name="max"/>, when given.</summary>
    public static void Range(this Dictionary<string, string[]> errors, string field, long? value, long min, long max)
    {
        if (value is { } v && (v < min || v > max))
        {
            errors.AddError(field, $"must be a whole number between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)} (got {v.ToString(CultureInfo.InvariantCulture)})");
        }
    }

    /// <summary>An amount more than 0 and at most <paramref name="max"/>, when given.</summary>
    public static void Positive(this Dictionary<string, string[]> errors, string field, decimal? value, decimal max)
    {
        if (value is { } v && (v <= 0 || v > max))
        {
            errors.AddError(field, $"must be more than 0 and at most {max.ToString(CultureInfo.InvariantCulture)} (got {v.ToString(CultureInfo.InvariantCulture)})");
        }
    }

    /// <summary>A number between <paramref name="min"/> and <paramref name="max"/>; NaN and infinities are refused.</summary>
    public static void Range(this Dictionary<string, string[]> errors, string field, double? value, double min, double max)
    {
        if (value is { } v && (!double.IsFinite(v) || v < min || v > max))
        {
            errors.AddError(field, $"must be a number between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)} (got {v.ToString(CultureInfo.InvariantCulture)})");
        }
    }

    /// <summary>A time after <paramref name="now"/> and at most <paramref name="horizon"/> ahead, when given.</summary>
    public static void Future(this Dictionary<string, string[]> errors, string field, DateTimeOffset? value, DateTimeOffset now, TimeSpan horizon)
    {
        if (value is { } v && v <= now)
        {
            errors.AddError(field, "must be in the future");
        }
        else if (value is { } w && w - now > horizon)
        {
            errors.AddError(field, $"must be at most {horizon.TotalDays / 365:0} years ahead");
        }
    }

    /// <summary>A whole-number query parameter read as text: null when absent or invalid (then named in <paramref name="errors"/>).</summary>
    public static int? QueryInt(this Dictionary<string, string[]> errors, string field, string? text, int min, int max)
    {
        if (text is null)
        {
            return null;
        }
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }
        errors.AddError(field, $"must be a whole number between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}");
        return null;
    }
}
