using Microsoft.Extensions.Options;

namespace Mulan.People;

/// <summary>The <c>People</c> section: sessions, lockout, sign-in rate limits and invitations.</summary>
public sealed class PeopleOptions
{
    public const string Section = "People";

    /// <summary>How long a session lasts without use (sliding) or at all (fixed), in minutes.</summary>
    public int SessionMinutes { get; set; } = 12 * 60;

    /// <summary>Each use pushes the expiry out again by <see cref="SessionMinutes"/>, up to <see cref="SessionMaxDays"/> after sign-in.</summary>
    public bool SlidingSessions { get; set; } = true;

    /// <summary>A session ends this long after sign-in however much it is used.</summary>
    public int SessionMaxDays { get; set; } = 7;

    /// <summary>Failed password sign-ins in a row that lock an account.</summary>
    public int LockoutThreshold { get; set; } = 5;

    public int LockoutMinutes { get; set; } = 15;

    /// <summary>Sign-in and invitation-accept attempts one client address may make per minute.</summary>
    public int SignInAttemptsPerMinute { get; set; } = 10;

    public int InvitationHours { get; set; } = 72;

    /// <summary>The longest a personal token may live.</summary>
    public int MaxTokenDays { get; set; } = 365;
}

internal sealed class PeopleOptionsValidator : IValidateOptions<PeopleOptions>
{
    public ValidateOptionsResult Validate(string? name, PeopleOptions o)
    {
        var errors = new List<string>();
        Check(errors, nameof(o.SessionMinutes), o.SessionMinutes, 1, 60 * 24 * 30);
        Check(errors, nameof(o.SessionMaxDays), o.SessionMaxDays, 1, 365);
        Check(errors, nameof(o.LockoutThreshold), o.LockoutThreshold, 1, 100);
        Check(errors, nameof(o.LockoutMinutes), o.LockoutMinutes, 1, 60 * 24);
        Check(errors, nameof(o.SignInAttemptsPerMinute), o.SignInAttemptsPerMinute, 1, 10_000);
        Check(errors, nameof(o.InvitationHours), o.InvitationHours, 1, 24 * 30);
        Check(errors, nameof(o.MaxTokenDays), o.MaxTokenDays, 1, 3650);
        if (errors.Count == 0 && o.SessionMinutes > o.SessionMaxDays * 24 * 60)
        {
            errors.Add($"{PeopleOptions.Section}:{nameof(o.SessionMinutes)}: must not exceed {nameof(o.SessionMaxDays)} (got {o.SessionMinutes} minutes)");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, string field, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            errors.Add($"{PeopleOptions.Section}:{field}: must be between {min} and {max} (got {value})");
        }
    }
}
