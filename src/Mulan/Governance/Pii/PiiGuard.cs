using System.Text;

namespace Mulan.Governance.Pii;

/// <summary>The outcome of applying a policy: the request is refused, or it goes on with its data masked.</summary>
public abstract record PiiResult
{
    private PiiResult()
    {
    }

    /// <summary>A kind whose rule is <see cref="PiiAction.Block"/> was found (the first one in the text).</summary>
    public sealed record Blocked(string Kind, PiiRule Rule) : PiiResult;

    /// <summary>The text with placeholders, and the vault that turns them back into the originals.</summary>
    public sealed record Masked(string Text, PiiVault Vault) : PiiResult;
}

/// <summary>
/// Applies a <see cref="PiiPolicy"/> to text. Identity numbers are checked against "today" in China Standard Time
/// (UTC+8), the calendar they are issued in, so a birth date later than that is impossible.
/// </summary>
public sealed class PiiGuard(TimeProvider time)
{
    private static readonly TimeSpan ChinaStandardTime = TimeSpan.FromHours(8);

    public IReadOnlyList<PiiSpan> Scan(PiiPolicy policy, string text)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return PiiScanner.Scan(text, DateOnly.FromDateTime(time.GetUtcNow().ToOffset(ChinaStandardTime).DateTime), policy.Patterns);
    }

    /// <summary>Applies the policy to one text with a vault of its own.</summary>
    public PiiResult Apply(PiiPolicy policy, string text) => Apply(policy, text, new PiiVault());

    /// <summary>
    /// Applies the policy to one of a request's texts; all texts of one request share <paramref name="vault"/> so that a
    /// value gets the same placeholder wherever it appears. Nothing is added to the vault when the result is blocked.
    /// </summary>
    /// <exception cref="PiiPatternException">an administrator's pattern timed out (the request must not go on unmasked).</exception>
    public PiiResult Apply(PiiPolicy policy, string text, PiiVault vault)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(vault);
        // Placeholder-shaped text is masked even under a policy that does nothing, or restoring could alter it.
        if (!policy.MasksOrBlocks && !text.Contains(PiiPlaceholder.Open, StringComparison.Ordinal))
        {
            return new PiiResult.Masked(text, vault);
        }
        var spans = Scan(policy, text);
        foreach (var span in spans)
        {
            if (policy.RuleFor(span.Kind) is { Action: PiiAction.Block } rule)
            {
                return new PiiResult.Blocked(span.Kind, rule);
            }
        }
        StringBuilder? masked = null;
        var copied = 0;
        foreach (var span in spans)
        {
            if (span.Kind != PiiKinds.Placeholder && policy.RuleFor(span.Kind)?.Action != PiiAction.Mask)
            {
                continue;
            }
            masked ??= new StringBuilder(text.Length + 32);
            masked.Append(text, copied, span.Start - copied).Append(vault.PlaceholderFor(span.Kind, text.Substring(span.Start, span.Length)));
            copied = span.End;
        }
        return new PiiResult.Masked(masked is null ? text : masked.Append(text, copied, text.Length - copied).ToString(), vault);
    }
}
