namespace Mulan.Bench.Arms;

/// <summary>The systems measured side by side. Direct (the fake vendor itself) is the baseline of every figure.</summary>
internal enum ArmKind
{
    Direct,
    Nginx,
    Mulan,
    /// <summary>Mulan with <c>Storage:LedgerSync=Normal</c>: the same gateway without an fsync per ledger commit.</summary>
    MulanNormalSync,
    /// <summary>Mulan translating to the vendor's Anthropic Messages protocol instead of passing OpenAI through.</summary>
    MulanAnthropic,
    Portkey,
}

internal static class ArmKinds
{
    public static string Name(this ArmKind kind) => kind switch
    {
        ArmKind.Direct => "direct",
        ArmKind.Nginx => "nginx",
        ArmKind.Mulan => "mulan",
        ArmKind.MulanNormalSync => "mulan-normal-sync",
        ArmKind.MulanAnthropic => "mulan-anthropic",
        ArmKind.Portkey => "portkey",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static bool TryParse(string text, out ArmKind kind)
    {
        foreach (var candidate in Enum.GetValues<ArmKind>())
        {
            if (string.Equals(candidate.Name(), text, StringComparison.OrdinalIgnoreCase))
            {
                kind = candidate;
                return true;
            }
        }

        kind = default;
        return false;
    }
}
