namespace Mulan.Governance.Pii;

/// <summary>What to do with a kind of personal data found in a request.</summary>
public enum PiiAction
{
    /// <summary>Send it as it is.</summary>
    Allow,

    /// <summary>Replace it by a placeholder before it leaves, and put it back in the answer.</summary>
    Mask,

    /// <summary>Refuse the whole request.</summary>
    Block,
}

public sealed record PiiRule(string Kind, PiiAction Action);

/// <summary>
/// Rules by kind plus the administrator's patterns. A kind without a rule is allowed. A rule for a kind that nothing
/// detects is refused rather than ignored, so a typo cannot silently switch protection off.
/// </summary>
public sealed class PiiPolicy
{
    private readonly Dictionary<string, PiiRule> _rules = new(StringComparer.Ordinal);

    public PiiPolicy(IEnumerable<PiiRule> rules, IEnumerable<PiiPattern>? patterns = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        Patterns = [.. patterns ?? []];
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pattern in Patterns)
        {
            if (!names.Add(pattern.Name))
            {
                throw new ArgumentException($"PII pattern '{pattern.Name}' is defined twice.", nameof(patterns));
            }
        }
        foreach (var rule in rules)
        {
            if (!PiiKinds.BuiltIn.Contains(rule.Kind) && !names.Contains(rule.Kind))
            {
                throw new ArgumentException($"PII rule for '{rule.Kind}': no built-in kind or pattern has that name.", nameof(rules));
            }
            if (!_rules.TryAdd(rule.Kind, rule))
            {
                throw new ArgumentException($"PII rule for '{rule.Kind}' is given twice.", nameof(rules));
            }
        }
        Rules = [.. _rules.Values];
        MasksOrBlocks = Rules.Any(r => r.Action != PiiAction.Allow);
    }

    public static PiiPolicy AllowAll { get; } = new([]);

    public IReadOnlyList<PiiRule> Rules { get; }

    public IReadOnlyList<PiiPattern> Patterns { get; }

    /// <summary>Whether any rule does something; when none does, texts need no scanning for data.</summary>
    public bool MasksOrBlocks { get; }

    /// <summary>The rule for a kind; null means allowed.</summary>
    public PiiRule? RuleFor(string kind) => _rules.GetValueOrDefault(kind);
}
