using System.Runtime.InteropServices;
using Mulan.Bench.Hosting;

namespace Mulan.Bench;

/// <summary>Flags of the <c>apps</c> and <c>assistant</c> modes (each has its own usage text).</summary>
internal sealed record ModeOptions
{
    public bool Quick { get; init; }
    public bool Profile { get; init; }
    public string? Datasets { get; init; }
    public string? MulanData { get; init; }
    public string? OutputPath { get; init; }
    public bool NoBuild { get; init; }
    public bool Help { get; init; }

    /// <summary>The arguments as given (after the mode), for the report's command line.</summary>
    public IReadOnlyList<string> Raw { get; init; } = [];

    /// <param name="args">the program's arguments; the first is the mode.</param>
    /// <param name="profile">whether the mode takes <c>--profile</c>.</param>
    public static bool TryParse(string[] args, bool profile, out ModeOptions options, out string error)
    {
        options = new ModeOptions { Raw = args[1..] };
        error = "";
        for (var i = 1; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--quick":
                    options = options with { Quick = true };
                    break;
                case "--profile" when profile:
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

    /// <summary>What the modes share around their run: parse the flags (usage and exit 2 on a bad one), then run until done
    /// or interrupted (SIGINT/SIGTERM unwind through the finally blocks that stop the child processes).</summary>
    public static async Task<int> RunModeAsync(string[] args, string mode, string usage, bool profile, Func<ModeOptions, CancellationToken, Task<int>> run)
    {
        if (!TryParse(args, profile, out var options, out var error))
        {
            await System.Console.Error.WriteLineAsync(error + Environment.NewLine + usage);
            return 2;
        }

        if (options.Help)
        {
            System.Console.WriteLine(usage);
            return 0;
        }

        using var stop = new CancellationTokenSource();
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        try
        {
            return await run(options, stop.Token);
        }
        catch (BenchException e)
        {
            await System.Console.Error.WriteLineAsync($"mulan-bench {mode}: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await System.Console.Error.WriteLineAsync($"mulan-bench {mode}: interrupted; child processes stopped");
            return 130;
        }

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }
}
