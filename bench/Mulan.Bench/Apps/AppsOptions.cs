namespace Mulan.Bench.Apps;

/// <summary>Flags of the <c>apps</c> mode.</summary>
internal sealed record AppsOptions
{
    public const string Usage =
        """
        usage: dotnet run -c Release --project bench/Mulan.Bench -- apps [options]
          --quick              short run (~2 minutes): shorter warm-up, fewer rounds, 2 s windows
          --profile            also sample Mulan with perf for 8 s under app load (concurrency 32) and list
                               the hottest functions (needs perf and perf_event access; Mulan gets DOTNET_PerfMapEnabled=1)
          --datasets DIR       the datasets folder (default ../shared/datasets beside the repository)
          --mulan-data DIR     parent folder for Mulan's data folders (default: the run's temp folder), e.g. /dev/shm
          --out FILE           report path (default bench/results/apps.md)
          --no-build           do not build src/Mulan and tests/Mulan.FakeVendor (Release) first
          -h, --help           this text
        """;

    public bool Quick { get; init; }
    public bool Profile { get; init; }
    public string? Datasets { get; init; }
    public string? MulanData { get; init; }
    public string? OutputPath { get; init; }
    public bool NoBuild { get; init; }
    public bool Help { get; init; }

    /// <summary>The arguments as given (after <c>apps</c>), for the report's command line.</summary>
    public IReadOnlyList<string> Raw { get; init; } = [];

    /// <param name="args">the program's arguments; the first is <c>apps</c>.</param>
    public static bool TryParse(string[] args, out AppsOptions options, out string error)
    {
        options = new AppsOptions { Raw = args[1..] };
        error = "";
        for (var i = 1; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--quick":
                    options = options with { Quick = true };
                    break;
                case "--profile":
                    options = options with { Profile = true };
                    break;
                case "--datasets" when value is not null:
                    options = options with { Datasets = value };
                    i++;
                    break;
                case "--mulan-data" when value is not null:
                    options = options with { MulanData = value };
                    i++;
                    break;
                case "--out" when value is not null:
                    options = options with { OutputPath = value };
                    i++;
                    break;
                case "--no-build":
                    options = options with { NoBuild = true };
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
}
