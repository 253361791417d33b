using System.ComponentModel;
using System.Diagnostics;

namespace Mulan.Speech.Engines;

/// <summary>The outcome of one run of a local program.</summary>
public sealed record EngineRun(int ExitCode, byte[] Output, string Errors);

/// <summary>
/// Runs the programs the local engines and audio conversion use (ffmpeg, tesseract, espeak-ng, flite, pocketsphinx,
/// pdftoppm), always with an argument list (never a shell), a time limit and a cap on what is read back, and killed
/// with its children when the request is cancelled.
/// </summary>
public static class EngineProcess
{
    /// <summary>The program's full path on PATH, or null when it is not installed.</summary>
    public static string? Find(string program)
    {
        if (Path.IsPathRooted(program))
        {
            return File.Exists(program) ? program : null;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <exception cref="EngineException">the program could not start, took longer than <paramref name="timeout"/> or wrote
    /// more than <paramref name="maxOutput"/> bytes.</exception>
    public static async Task<EngineRun> RunAsync(string executable, IEnumerable<string> arguments, ReadOnlyMemory<byte>? input, TimeSpan timeout,
        long maxOutput, CancellationToken ct, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Start(executable, arguments, input is not null, environment);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        using var kill = limit.Token.Register(() => Kill(process));
        var stderr = ReadCappedAsync(process.StandardError.BaseStream, 64 * 1024, CancellationToken.None);
        var stdout = ReadCappedAsync(process.StandardOutput.BaseStream, maxOutput, CancellationToken.None);
        if (input is { } bytes)
        {
            try
            {
                await process.StandardInput.BaseStream.WriteAsync(bytes, limit.Token);
                process.StandardInput.Close();
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                // The program stopped reading (bad input, or killed): its exit code and errors say why.
            }
        }
        var (output, overflow) = await stdout;
        if (overflow)
        {
            Kill(process);
        }
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            ct.ThrowIfCancellationRequested();
            throw new EngineException($"{Path.GetFileName(executable)} took longer than {timeout.TotalSeconds:0} seconds");
        }
        var (errors, _) = await stderr;
        if (overflow)
        {
            throw new EngineException($"{Path.GetFileName(executable)} produced more than {maxOutput} bytes");
        }
        return new EngineRun(process.ExitCode, output, System.Text.Encoding.UTF8.GetString(errors));
    }

    /// <summary>Starts the program with redirected streams; the caller owns the process.</summary>
    public static Process Start(string executable, IEnumerable<string> arguments, bool redirectInput, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // One thread per run: requests already run in parallel, and OpenMP oversubscribes small machines.
        start.Environment["OMP_THREAD_LIMIT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        try
        {
            return Process.Start(start) ?? throw new EngineException($"{Path.GetFileName(executable)} could not be started");
        }
        catch (Win32Exception e)
        {
            throw new EngineException($"{Path.GetFileName(executable)} could not be started: {e.Message}");
        }
    }

    public static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception)
        {
            // Already exited.
        }
    }

    private static async Task<(byte[] Bytes, bool Overflow)> ReadCappedAsync(Stream stream, long cap, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int n;
        while ((n = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > cap)
            {
                return (buffer.ToArray(), true);
            }
            buffer.Write(chunk, 0, n);
        }
        return (buffer.ToArray(), false);
    }
}

/// <summary>A local program failed; the message names the program and why, never the request's content.</summary>
public sealed class EngineException(string message) : Exception(message);
