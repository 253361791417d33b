namespace Mulan.Bench.Evaluations;

/// <summary>The <c>evaluations</c> mode's flags (parsed by <see cref="ModeOptions"/>; no <c>--profile</c>).</summary>
internal static class EvaluationsBenchOptions
{
    public const string Usage =
        """
        usage: dotnet run -c Release --project bench/Mulan.Bench -- evaluations [options]
          --quick              short run (~3 minutes): fewer evaluation rounds and report rounds (still 100,000 usage records)
          --datasets DIR       the datasets folder (default ../shared/datasets beside the repository)
          --mulan-data DIR     parent folder for Mulan's data folder (default: the run's temp folder), e.g. /dev/shm
          --out FILE           report path (default bench/results/evaluations.md)
          --no-build           do not build src/Mulan and tests/Mulan.FakeVendor (Release) first
          -h, --help           this text
        """;
}
