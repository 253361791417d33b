using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mulan.Tests.Support;

/// <summary>The real <c>mulan</c> executable as a child process (the build output copied beside the tests).</summary>
public sealed class MulanProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private MulanProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_stdout) { _stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_stderr) { _stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }
    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public static string MulanDll => Path.Combine(AppContext.BaseDirectory, "mulan.dll");

    public static MulanProcess Start(IEnumerable<string> arguments, IDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(MulanDll);
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment.Remove("MULAN_ADMIN_KEY");
        info.Environment.Remove("MULAN_DATA");
        info.Environment.Remove("MULAN_URL");
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[k] = v;
        }
        return new MulanProcess(Process.Start(info)!);
    }

    /// <summary>Runs a command to completion and returns its exit code and output.</summary>
    /// <param name="stdin">written to the command's standard input, which is then closed (end of input).</param>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(IEnumerable<string> arguments, IDictionary<string, string?>? environment = null,
        string? stdin = null)
    {
        await using var p = Start(arguments, environment);
        if (stdin is not null)
        {
            await p._process.StandardInput.WriteAsync(stdin);
        }
        p._process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p._process.WaitForExitAsync(timeout.Token);
        p._process.WaitForExit(); // drains the redirected streams
        return (p.ExitCode, p.Stdout, p.Stderr);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until <c>/healthz</c> answers 200.</summary>
    public async Task WaitHealthyAsync(Uri baseUrl)
    {
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"mulan exited with {_process.ExitCode}: {Stderr}{Stdout}");
            }
            try
            {
                if ((await http.GetAsync("healthz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // not answering yet
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"mulan did not become healthy: {Stderr}{Stdout}");
    }

    /// <summary>Waits until standard output holds <paramref name="text"/> (the start-up summary and a generated admin
    /// key are printed just after the server starts answering).</summary>
    public async Task<string> WaitForStdoutAsync(string text, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!Stdout.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
            {
                throw new TimeoutException($"mulan did not print '{text}': {Stderr}{Stdout}");
            }
            await Task.Delay(20);
        }
        return Stdout;
    }

    /// <summary>SIGTERM, as a service manager stops a service: the server drains and exits.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public Task WaitForExitAsync(CancellationToken ct) => _process.WaitForExitAsync(ct);

    /// <summary>SIGKILL: no shutdown hooks, no flushing; what is on disk is what survives.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
