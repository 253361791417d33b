using Mulan.Bench.Arms;

namespace Mulan.Bench;

/// <summary>Command-line flags. Everything else (sizes, durations) follows from the mode, see <see cref="BenchPlan"/>.</summary>
internal sealed record BenchOptions
{
    public const string Usage =
        """
        usage: dotnet run -c Release --project bench/Mulan.Bench -- [options]
          --quick              short run (~1-2 minutes): fewer rounds, shorter windows, streams up to 128
          --arms LIST          comma-separated subset of direct,nginx,mulan,mulan-normal-sync,
                               mulan-anthropic,portkey (default: all;
                               direct is always measured, every figure is relative to it)
          --warmup SECONDS     closed-loop warm-up of Mulan and Portkey before measuring (default 60, quick 15;
                               Mulan needs ~45 s of load on 2 cores to run fully optimized code)
          --out FILE           report path (default bench/results/latest.md)
          --repo DIR           repository root (default: found from the current or the program's folder)
          --mulan-data DIR     parent folder for Mulan's fresh data folder (default: the run's temp folder);
                               e.g. /dev/shm to see how much of Mulan's latency is the fsync of its usage ledger
          --mulan-env NAME=VALUE
                               extra environment variable for the Mulan process only (repeatable), to try
                               runtime settings such as DOTNET_TieredPGO=0 without rebuilding
          --no-build           do not build src/Mulan and tests/Mulan.FakeVendor (Release) first
          --no-pin             do not pin processes to CPUs with taskset
          -h, --help           this text
        """;

    public bool Quick { get; init; }
    public IReadOnlyList<ArmKind> Arms { get; init; } = Enum.GetValues<ArmKind>();
    public string? OutputPath { get; init; }

    /// <summary>Overrides the mode's warm-up time per arm.</summary>
    public int? WarmupSeconds { get; init; }
    public string? RepoRoot { get; init; }

    /// <summary>Extra environment for the Mulan process only.</summary>
    public IReadOnlyDictionary<string, string> MulanEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>Where Mulan's data folder is created; null: inside the run's scratch folder.</summary>
    public string? MulanDataParent { get; init; }
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
                case "--warmup" when int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds <= 3600:
                    options = options with { WarmupSeconds = seconds };
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
                case "--mulan-data" when value is not null:
                    options = options with { MulanDataParent = value };
                    i++;
                    break;
                case "--mulan-env" when value is not null && value.IndexOf('=', StringComparison.Ordinal) > 0:
                    options = options with
                    {
                        MulanEnvironment = new Dictionary<string, string>(options.MulanEnvironment)
                        {
                            [value[..value.IndexOf('=', StringComparison.Ordinal)]] = value[(value.IndexOf('=', StringComparison.Ordinal) + 1)..],
                        },
                    };
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
