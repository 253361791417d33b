using System.Diagnostics;

namespace Mulan.Bench.Hosting;

/// <summary>
/// A process the benchmark started (fake vendor, nginx, Mulan, Portkey), optionally pinned to one CPU with
/// taskset. Its output is drained continuously (a full pipe would block the child) and kept, bounded, for
/// readiness lines and error messages. Disposing kills it and everything it started.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private const int KeptLines = 200;

    private readonly Process _process;
    private readonly Queue<string> _lines = new();
    private readonly Lock _gate = new();

    private ChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <param name="cpu">Pin to this CPU (taskset execs the program, so <see cref="Pid"/> is the program's own).</param>
    /// <param name="holdStdin">Keep stdin as a pipe: the fake vendor exits when it closes, even if we crash.</param>
    public static ChildProcess Start(string name, string file, IEnumerable<string> args, int? cpu = null,
        string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null, bool holdStdin = false)
    {
        var info = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = holdStdin,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        if (cpu is { } core && CorePinning.TasksetPath is { } taskset)
        {
            info.FileName = taskset;
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(core.ToString(System.Globalization.CultureInfo.InvariantCulture));
            info.ArgumentList.Add(file);
        }
        else
        {
            info.FileName = file;
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process);
        process.OutputDataReceived += (_, e) => child.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => child.Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for an output line that matches; null when the process exits or the time runs out first.</summary>
    public async Task<string?> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            lock (_gate)
            {
                if (_lines.FirstOrDefault(match) is { } line)
                {
                    return line;
                }
            }

            if (_process.HasExited)
            {
                return null;
            }

            await Task.Delay(50, ct);
        }

        return null;
    }

    /// <summary>The last lines of output, for a message that says why a start failed.</summary>
    public string Tail(int count = 15)
    {
        lock (_gate)
        {
            return string.Join(Environment.NewLine, _lines.TakeLast(count));
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // The whole tree: nginx's worker would otherwise outlive its killed master and keep the port.
                _process.Kill(entireProcessTree: true);
            }

            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or not dying in time; nothing more a benchmark can do about it.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _lines.Enqueue(line);
            if (_lines.Count > KeptLines)
            {
                _lines.Dequeue();
            }
        }
    }
}
