namespace Mulan.Governance.Pii;

/// <summary>A piece of personal data found in a text: where it is and what kind it is.</summary>
/// <param name="Start">index of its first character (UTF-16 code units).</param>
/// <param name="Length">its length in UTF-16 code units.</param>
/// <param name="Kind">a built-in kind (<see cref="PiiKinds"/>) or the name of an administrator's pattern.</param>
public readonly record struct PiiSpan(int Start, int Length, string Kind)
{
    public int End => Start + Length;
}

/// <summary>The kinds detected without configuration.</summary>
public static class PiiKinds
{
    public const string ChinaId = "china_id";
    public const string ChinaMobile = "china_mobile";
    public const string BankCard = "bank_card";
    public const string Email = "email";

    /// <summary>
    /// Text that already has the shape of a placeholder. It is always masked, whatever the policy, so that restoring a
    /// model's answer can never turn a user's literal text into someone's data, and restore(mask(x)) == x holds.
    /// </summary>
    public const string Placeholder = "placeholder";

    public static IReadOnlyList<string> BuiltIn { get; } = [ChinaId, ChinaMobile, BankCard, Email];
}
