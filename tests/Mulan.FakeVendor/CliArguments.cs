using System.Globalization;

namespace Mulan.FakeVendor;

/// <summary>Command-line flags of the fake vendor process.</summary>
internal sealed record CliArguments(FakeVendorOptions Options, bool WatchStdin, bool Help)
{
    public const string Usage =
        """
        usage: Mulan.FakeVendor [--port N] [--key KEY] [--record] [--log] [--no-stdin-watch]
          --port N          loopback port to bind (default 0: any free port)
          --key KEY         API key clients must send as Bearer (default sk-fake-vendor-key)
          --record          keep every request in memory (off: a long benchmark would grow without bound)
          --log             log requests to stderr
          --no-stdin-watch  keep serving when stdin (a pipe) closes
        Prints "listening http://127.0.0.1:PORT" on stdout when ready.
        Control routes: GET /_ledger (bills as JSON), POST /_ledger/clear.
        """;

    public static bool TryParse(string[] args, out CliArguments cli, out string error)
    {
        var port = 0;
        var key = new FakeVendorOptions().ApiKey;
        var record = false;
        var log = false;
        var watchStdin = true;
        var help = false;
        error = "";
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--port" when i + 1 < args.Length
                    && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out port)
                    && port <= 65535:
                    i++;
                    break;
                case "--key" when i + 1 < args.Length && args[i + 1].Length > 0:
                    key = args[++i];
                    break;
                case "--record":
                    record = true;
                    break;
                case "--log":
                    log = true;
                    break;
                case "--no-stdin-watch":
                    watchStdin = false;
                    break;
                case "-h" or "--help":
                    help = true;
                    break;
                default:
                    error = $"invalid argument: {args[i]}";
                    break;
            }

            if (error.Length > 0)
            {
                break;
            }
        }

        var options = new FakeVendorOptions { Port = port, ApiKey = key, RecordRequests = record, EnableLogging = log };
        cli = new CliArguments(options, watchStdin, help);
        return error.Length == 0;
    }
}
