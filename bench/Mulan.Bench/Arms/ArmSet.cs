using Mulan.Bench.Hosting;

namespace Mulan.Bench.Arms;

/// <summary>
/// The arms of one run, all forwarding to one fake vendor process. An arm that cannot start (or fails its
/// check) is skipped with a reason that goes into the report; only the direct arm is required.
/// </summary>
internal sealed class ArmSet : IAsyncDisposable
{
    private readonly List<ArmTarget> _active = [];
    private readonly List<ChildProcess> _processes = [];
    private readonly SortedDictionary<ArmKind, string> _skipped = [];

    private ArmSet(ArmTarget direct) => Direct = direct;

    public ArmTarget Direct { get; }

    /// <summary>Arms being measured, in <see cref="ArmKind"/> order (direct first).</summary>
    public IReadOnlyList<ArmTarget> Active => [.. _active.OrderBy(a => a.Kind)];

    public IReadOnlyDictionary<ArmKind, string> Skipped => _skipped;

    public ArmTarget? Find(ArmKind kind) => _active.Find(a => a.Kind == kind);

    public static async Task<ArmSet> StartAsync(BenchOptions options, ReleaseBuilds builds, ScratchDirectory scratch,
        string mulanData, RepoLayout repo, Progress progress, CancellationToken ct)
    {
        progress.Say("starting the fake vendor");
        var (direct, vendorPort) = await FakeVendorArm.StartAsync(builds.FakeVendorDll, ct);
        var set = new ArmSet(direct);
        set.Add(direct);
        try
        {
            foreach (var kind in options.Arms.Where(k => k != ArmKind.Direct))
            {
                progress.Say($"starting {kind.Name()}");
                var (target, skipped) = kind switch
                {
                    ArmKind.Nginx => await NginxArm.StartAsync(scratch, vendorPort, ct),
                    ArmKind.Mulan => await MulanArm.StartAsync(builds.MulanDll, scratch, mulanData, options.MulanEnvironment, vendorPort, ct),
                    ArmKind.MulanNormalSync => await MulanArm.StartAsync(builds.MulanDll, scratch, mulanData + "-normal-sync", options.MulanEnvironment,
                        vendorPort, ct, ArmKind.MulanNormalSync),
                    ArmKind.MulanAnthropic => await MulanArm.StartAsync(builds.MulanDll, scratch, mulanData + "-anthropic", options.MulanEnvironment,
                        vendorPort, ct, ArmKind.MulanAnthropic),
                    ArmKind.Portkey => await PortkeyArm.StartAsync(repo.PortkeyFolder, vendorPort, progress, ct),
                    _ => throw new ArgumentOutOfRangeException(nameof(options)),
                };
                if (target is null)
                {
                    set._skipped[kind] = skipped ?? "did not start";
                    progress.Say($"skipping {kind.Name()}: {skipped}");
                }
                else
                {
                    set.Add(target);
                }
            }
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }

        return set;
    }

    /// <summary>Takes an arm out of the run and stops its process, so it does not idle on the measured core.</summary>
    public async Task SkipAsync(ArmTarget arm, string reason)
    {
        _active.Remove(arm);
        _skipped[arm.Kind] = reason;
        if (arm.Process is { } process && _processes.Remove(process))
        {
            await process.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Gateways first, the vendor they forward to last.
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.DisposeAsync();
        }

        _processes.Clear();
    }

    private void Add(ArmTarget target)
    {
        _active.Add(target);
        if (target.Process is { } process)
        {
            _processes.Add(process);
        }
    }
}
