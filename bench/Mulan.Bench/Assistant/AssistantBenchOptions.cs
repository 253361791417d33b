namespace Mulan.Bench.Assistant;

/// <summary>The <c>assistant</c> mode's flags (parsed by <see cref="ModeOptions"/>; no <c>--profile</c>).</summary>
internal static class AssistantBenchOptions
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
}
