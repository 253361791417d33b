using System.Globalization;

namespace Mulan.Bench.Ingestion;

/// <summary>Command-line flags of the ingestion benchmark.</summary>
internal sealed record IngestionOptions
{
    public const string Usage =
        """
        usage: Mulan.Bench ingestion [options]   (docs/quality.md §4)
          --scales LIST        replication factors of the pooled corpus (default 10,100)
          --embed-sample N     chunks embedded with the local encoder, documents spread over the smallest
                               scale's corpus; larger scales are projected from it (default 2000)
          --embed-full         embed every chunk of the smallest scale instead (slow: minutes to hours)
          --no-embed           skip the local encoder (the embed stage and its projections)
          --formats-docs N     documents generated as PDF, DOCX, HTML and Markdown for the per-format parse
                               figures (default 74, the unreplicated corpus; 0 skips formats)
          --data DIR           parent folder of the temporary SQLite data folders (default: the system
                               temp folder); e.g. /dev/shm to take the fsync of every commit out of the store stage
          --datasets DIR       DRCD and XQuAD (default: ../shared/datasets beside the repository root)
          --out FILE           also write the Markdown report to FILE
          --repo DIR           repository root (default: found by walking up to Mulan.slnx)
          -h, --help           this text
        """;

    public IReadOnlyList<int> Scales { get; init; } = [10, 100];
    public int EmbedSample { get; init; } = 2_000;
    public bool EmbedFull { get; init; }
    public bool Embed { get; init; } = true;
    public int FormatsDocuments { get; init; } = 74;
    public string? DataParent { get; init; }
    public string? Datasets { get; init; }
    public string? OutputPath { get; init; }
    public string? RepoRoot { get; init; }
    public bool Help { get; init; }

    public static bool TryParse(string[] args, out IngestionOptions options, out string error)
    {
        options = new IngestionOptions();
        error = "";
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "ingestion" when i == 0:
                    continue;
                case "--scales" when value is not null && TryScales(value, out var scales):
                    options = options with { Scales = scales };
                    break;
                case "--embed-sample" when TryCount(value, out var sample) && sample > 0:
                    options = options with { EmbedSample = sample };
                    break;
                case "--embed-full":
                    options = options with { EmbedFull = true };
                    continue;
                case "--no-embed":
                    options = options with { Embed = false };
                    continue;
                case "--formats-docs" when TryCount(value, out var documents):
                    options = options with { FormatsDocuments = documents };
                    break;
                case "--data" when value is not null:
                    options = options with { DataParent = value };
                    break;
                case "--datasets" when value is not null:
                    options = options with { Datasets = value };
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

        if (options.EmbedFull && !options.Embed)
        {
            error = "--embed-full and --no-embed contradict each other";
            return false;
        }

        return true;
    }

    private static bool TryCount(string? value, out int count) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out count);

    private static bool TryScales(string value, out IReadOnlyList<int> scales)
    {
        var parts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var parsed = new List<int>();
        foreach (var part in parts)
        {
            // ×1,000 of the pooled corpus is 1.65 GB of text: beyond what one process should be asked to hold.
            if (!TryCount(part, out var scale) || scale is < 1 or > 1_000)
            {
                scales = [];
                return false;
            }

            parsed.Add(scale);
        }

        scales = [.. parsed.Distinct().Order()];
        return scales.Count > 0;
    }
}
