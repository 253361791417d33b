namespace Mulan.Bench.Assistant;

/// <summary>Flags of the <c>assistant</c> mode.</summary>
internal sealed record AssistantBenchOptions
{
    public const string Usage =
        """
        usage: dotnet run -c Release --project bench/Mulan.Bench -- assistant [options]
          --quick              short run (~2 minutes): one corpus copy, fewer runs per K and per concurrency level
          --datasets DIR       the datasets folder (default ../shared/datasets beside the repository)
          --mulan-data DIR     parent folder for Mulan's data folder (default: the run's temp folder), e.g. /dev/shm
          --out FILE           report path (default bench/results/assistant.md)
          --no-build           do not build src/Mulan and tests/Mulan.FakeVendor (Release) first
          -h, --help           this text
        """;

    public bool Quick { get; init; }
    public string? Datasets { get; init; }
    public string? MulanData { get; init; }
    public string? OutputPath { get; init; }
    public bool NoBuild { get; init; }
    public bool Help { get; init; }

    /// <summary>The arguments as given (after <c>assistant</c>), for the report's command line.</summary>
    public IReadOnlyList<string> Raw { get; init; } = [];

    /// <param name="args">the program's arguments; the first is <c>assistant</c>.</param>
    public static bool TryParse(string[] args, out AssistantBenchOptions options, out string error)
    {
        options = new AssistantBenchOptions { Raw = args[1..] };
        error = "";
        for (var i = 1; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--quick":
                    options = options with { Quick = true };
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
