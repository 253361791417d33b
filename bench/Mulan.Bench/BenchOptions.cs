using Mulan.Bench.Arms;

namespace Mulan.Bench;

/// <summary>Command-line flags. Everything else (sizes, durations) follows from the mode, see <see cref="BenchPlan"/>.</summary>
internal sealed record BenchOptions
{
    public const string Usage =
        """
        usage: dotnet run -c Release --project bench/Mulan.Bench -- [options]
          --quick              short run (~1-2 minutes): fewer rounds, shorter windows, streams up to 128
          --arms LIST          comma-separated subset of direct,nginx,mulan,portkey (default: all;
                               direct is always measured, every figure is relative to it)
          --out FILE           report path (default bench/results/latest.md)
          --repo DIR           repository root (default: found from the current or the program's folder)
          --no-build           do not build src/Mulan and tests/Mulan.FakeVendor (Release) first
          --no-pin             do not pin processes to CPUs with taskset
          -h, --help           this text
        """;

    public bool Quick { get; init; }
    public IReadOnlyList<ArmKind> Arms { get; init; } = Enum.GetValues<ArmKind>();
    public string? OutputPath { get; init; }
    public string? RepoRoot { get; init; }
    public bool NoBuild { get; init; }
    public bool NoPin { get; init; }
    public bool Help { get; init; }

    /// <summary>The arguments as given, for the report's command line.</summary>
    public IReadOnlyList<string> Raw { get; init; } = [];

    public static bool TryParse(string[] args, out BenchOptions options, out string error)
    {
        options = new BenchOptions { Raw = args };
        error = "";
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--quick":
                    options = options with { Quick = true };
                    break;
                case "--arms" when value is not null:
                    if (!TryParseArms(value, out var arms, out error))
                    {
                        return false;
                    }

                    options = options with { Arms = arms };
                    i++;
                    break;
                case "--out" when value is not null:
                    options = options with { OutputPath = value };
                    i++;
                    break;
                case "--repo" when value is not null:
                    options = options with { RepoRoot = value };
                    i++;
                    break;
                case "--no-build":
                    options = options with { NoBuild = true };
                    break;
                case "--no-pin":
                    options = options with { NoPin = true };
                    break;
                case "-h" or "--help":
                    options = options with { Help = true };
                    break;
                default:
                    error = $"invalid argument: {args[i]}";
                    return false;
            }
        }

        return true;
    }

    private static bool TryParseArms(string list, out IReadOnlyList<ArmKind> arms, out string error)
    {
        var set = new SortedSet<ArmKind> { ArmKind.Direct };
        error = "";
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!ArmKinds.TryParse(part, out var kind))
            {
                arms = [];
                error = $"unknown arm `{part}` (expected direct, nginx, mulan, portkey)";
                return false;
            }

            set.Add(kind);
        }

        arms = [.. set];
        return true;
    }
}
