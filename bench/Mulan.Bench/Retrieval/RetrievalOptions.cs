namespace Mulan.Bench.Retrieval;

/// <summary>Command-line flags of the retrieval benchmark.</summary>
internal sealed record RetrievalOptions
{
    public const string Usage =
        """
        usage: Mulan.Bench retrieval [options]   (docs/quality.md §3)
          --datasets DIR         DRCD and XQuAD (default: ../shared/datasets beside the repository root)
          --analyzers LIST       comma-separated analyzer names (default: all measured)
          --speed-analyzers LIST analyzers for the build/latency run (default: the ones Mulan ships;
                                 "all" for every measured analyzer)
          --chunks N             corpus size for the build/latency run (default 100000; 0 skips it)
          --rounds N             build and latency rounds, medians reported (default 3)
          --no-lucene            skip the Lucene.Net comparison arm
          --no-vectors           skip the vector and hybrid arms (the local encoder takes minutes)
          --vector-sizes LIST    vector index sizes for the exact-search latency run (default 100000,1000000; 0 skips it)
          --jieba-resources DIR  jieba.NET's Resources folder (default: beside the program, else the NuGet cache)
          --out FILE             also write the Markdown report to FILE
          --repo DIR             repository root (default: found by walking up to Mulan.slnx)
          -h, --help             this text
        """;

    public string? Datasets { get; init; }
    public IReadOnlySet<string>? Analyzers { get; init; }
    public IReadOnlySet<string>? SpeedAnalyzers { get; init; }
    public int Chunks { get; init; } = 100_000;
    public int Rounds { get; init; } = 3;
    public bool Lucene { get; init; } = true;
    public bool Vectors { get; init; } = true;
    public IReadOnlyList<int> VectorSizes { get; init; } = [100_000, 1_000_000];
    public string? JiebaResources { get; init; }
    public string? OutputPath { get; init; }
    public string? RepoRoot { get; init; }
    public bool Help { get; init; }

    public static bool TryParse(string[] args, out RetrievalOptions options, out string error)
    {
        options = new RetrievalOptions();
        error = "";
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "retrieval":
                    continue;
                case "--datasets" when value is not null:
                    options = options with { Datasets = value };
                    break;
                case "--analyzers" when value is not null:
                    options = options with { Analyzers = Names(value) };
                    break;
                case "--speed-analyzers" when value is not null:
                    options = options with { SpeedAnalyzers = Names(value) };
                    break;
                case "--chunks" when int.TryParse(value, out var chunks) && chunks >= 0:
                    options = options with { Chunks = chunks };
                    break;
                case "--rounds" when int.TryParse(value, out var rounds) && rounds > 0:
                    options = options with { Rounds = rounds };
                    break;
                case "--no-lucene":
                    options = options with { Lucene = false };
                    continue;
                case "--vector-sizes" when value is not null && value.Split(',').All(v => int.TryParse(v, out var n) && n >= 0):
                    options = options with { VectorSizes = [.. value.Split(',').Select(int.Parse).Where(n => n > 0)] };
                    break;
                case "--no-vectors":
                    options = options with { Vectors = false };
                    continue;
                case "--jieba-resources" when value is not null:
                    options = options with { JiebaResources = value };
                    break;
                case "--out" when value is not null:
                    options = options with { OutputPath = value };
                    break;
                case "--repo" when value is not null:
                    options = options with { RepoRoot = value };
                    break;
                case "-h" or "--help":
                    options = options with { Help = true };
                    continue;
                default:
                    error = $"invalid argument: {args[i]}";
                    return false;
            }

            i++;
        }

        return true;
    }

    private static HashSet<string> Names(string list) =>
        new(list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);
}
