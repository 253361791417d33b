using System.Runtime.InteropServices;

namespace Mulan.FakeVendor;

/// <summary>
/// The CLI: <c>Mulan.FakeVendor [--port N] [--key KEY] [--record] [--log] [--no-stdin-watch]</c>.
/// Prints exactly one line, <c>listening http://127.0.0.1:PORT</c>, once ready, then serves until
/// SIGTERM/SIGINT or until stdin (when it is a pipe) reaches end of file.
/// </summary>
/// <remarks>A named Main rather than top-level statements: a global <c>Program</c> type would clash
/// with the gateway's in a test project that references both.</remarks>
internal static class FakeVendorProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (!CliArguments.TryParse(args, out var cli, out var error))
        {
            await Console.Error.WriteLineAsync(error + Environment.NewLine + CliArguments.Usage);
            return 2;
        }

        if (cli.Help)
        {
            await Console.Out.WriteLineAsync(CliArguments.Usage);
            return 0;
        }

        await using var server = await FakeVendorServer.StartAsync(cli.Options);
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        if (cli.WatchStdin && StdinIsPipe())
        {
            new Thread(() => WaitForStdinEof(stop)) { IsBackground = true, Name = "stdin-watch" }.Start();
        }

        await Console.Out.WriteLineAsync($"listening {server.Origin.GetLeftPart(UriPartial.Authority)}");
        await Console.Out.FlushAsync();
        await stop.Task;
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // shut down cleanly instead of the runtime's default exit
            stop.TrySetResult();
        }
    }

    /// <summary>
    /// Only a pipe means "a parent is holding my stdin": /dev/null (a backgrounded shell job, CI
    /// without input) or a closed descriptor reads EOF at once and must not stop the server.
    /// </summary>
    private static bool StdinIsPipe()
    {
        try
        {
            var target = new FileInfo("/proc/self/fd/0").LinkTarget ?? "";
            return target.StartsWith("pipe:", StringComparison.Ordinal) || target.StartsWith("socket:", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void WaitForStdinEof(TaskCompletionSource stop)
    {
        try
        {
            using var stdin = Console.OpenStandardInput();
            var buffer = new byte[256];
            while (stdin.Read(buffer) > 0)
            {
                // Input is ignored; only its end matters.
            }
        }
        catch (IOException)
        {
            // A broken stdin counts as closed.
        }

        stop.TrySetResult();
    }
}
