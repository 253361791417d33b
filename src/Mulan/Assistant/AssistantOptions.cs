using System.Globalization;
using Microsoft.Extensions.Options;

namespace Mulan.Assistant;

/// <summary>Defaults and safety limits of assistant runs, bound from the <c>Assistant</c> configuration section. An app's
/// own <c>assistant</c> limits apply within these.</summary>
public sealed class AssistantOptions
{
    public const string Section = "Assistant";

    /// <summary>Model and tool calls per run when the app sets no <c>maxSteps</c>. Default 20.</summary>
    public int DefaultMaxSteps { get; set; } = 20;

    /// <summary>Running time per run (waiting for approval does not count) when the app sets no <c>maxSeconds</c>. Default 300.</summary>
    public int DefaultMaxSeconds { get; set; } = 300;

    /// <summary>How long a side-effecting call waits for a decision before it is rejected. Default 86400 (one day).</summary>
    public double ApprovalExpirySeconds { get; set; } = 86_400;

    /// <summary>How often pending approvals are checked for expiry and schedules for being due. Default 5.</summary>
    public double SweepSeconds { get; set; } = 5;

    /// <summary>Times one tool may be called with the very same arguments; the next such call ends the run. Default 2.</summary>
    public int MaxIdenticalCalls { get; set; } = 2;

    /// <summary>Runs executing at once on this node; more wait their turn. Default 8.</summary>
    public int MaxConcurrentRuns { get; set; } = 8;

    /// <summary>Exact hosts that schedule webhooks may reach on private or loopback addresses (an intranet endpoint).
    /// Default none: webhooks go to public addresses only.</summary>
    public IReadOnlyList<string> WebhookAllowHosts { get; set; } = [];

    internal TimeSpan ApprovalExpiry => TimeSpan.FromSeconds(ApprovalExpirySeconds);
    internal TimeSpan Sweep => TimeSpan.FromSeconds(SweepSeconds);
}

internal sealed class AssistantOptionsValidator : IValidateOptions<AssistantOptions>
{
    public ValidateOptionsResult Validate(string? name, AssistantOptions o)
    {
        var errors = new List<string>();
        void Range(string setting, double value, double min, double max)
        {
            if (!double.IsFinite(value) || value < min || value > max)
            {
                errors.Add($"{AssistantOptions.Section}:{setting}: must be from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)} (got {value.ToString(CultureInfo.InvariantCulture)})");
            }
        }
        Range(nameof(o.DefaultMaxSteps), o.DefaultMaxSteps, 1, 1000);
        Range(nameof(o.DefaultMaxSeconds), o.DefaultMaxSeconds, 1, 86_400);
        Range(nameof(o.ApprovalExpirySeconds), o.ApprovalExpirySeconds, 1, 30 * 86_400);
        Range(nameof(o.SweepSeconds), o.SweepSeconds, 0.05, 3600);
        Range(nameof(o.MaxIdenticalCalls), o.MaxIdenticalCalls, 1, 100);
        Range(nameof(o.MaxConcurrentRuns), o.MaxConcurrentRuns, 1, 1000);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
