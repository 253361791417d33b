namespace Mulan.Bench.Apps;

/// <summary>The <c>apps</c> mode's flags (parsed by <see cref="ModeOptions"/>).</summary>
internal static class AppsOptions
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
}
