using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Tesseract via its command-line program when installed (Debian packages tesseract-ocr with
/// tesseract-ocr-chi-tra, tesseract-ocr-chi-sim and tesseract-ocr-eng). Images go to its standard input
/// and text comes back on its standard output: nothing is written to disk.
/// </summary>
public sealed class OcrEngine
{
    /// <summary>Traditional first: ties in tesseract's multi-language mode go to the earlier language.</summary>
    private static readonly string[] WantedLanguages = ["chi_tra", "chi_sim", "eng"];

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(20);

    private readonly string _executable;

    internal OcrEngine(string executable, IReadOnlyList<string> languages, TimeSpan timeout)
    {
        _executable = executable;
        Languages = languages;
        Timeout = timeout;
    }

    /// <summary>The tesseract languages used together, e.g. chi_tra, chi_sim, eng.</summary>
    public IReadOnlyList<string> Languages { get; }

    /// <summary>Longest one image may take before tesseract is stopped and the document fails. Default 2 minutes.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Finds tesseract on PATH; null when it is not installed or has none of chi_tra, chi_sim, eng.</summary>
    public static OcrEngine? Detect() => Detect(TimeSpan.FromMinutes(2));

    /// <inheritdoc cref="Detect()"/>
    /// <param name="timeout">Longest one image may take.</param>
    public static OcrEngine? Detect(TimeSpan timeout)
    {
        if (FindOnPath("tesseract") is not { } executable)
        {
            return null;
        }

        var output = Run(executable, ["--list-langs"], input: null, ProbeTimeout, CancellationToken.None);
        if (output is null)
        {
            return null;
        }

        var installed = output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        string[] languages = [.. WantedLanguages.Where(installed.Contains)];
        return languages.Length == 0 ? null : new OcrEngine(executable, languages, timeout);
    }

    /// <summary>Recognizes the text of one encoded image (PNG, JPEG, TIFF, BMP, GIF, WebP as tesseract's build allows).</summary>
    /// <exception cref="DocumentParseException">tesseract could not read the image or took too long.</exception>
    public string Recognize(byte[] image, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(image);
        var output = Run(_executable, ["stdin", "stdout", "-l", string.Join('+', Languages)], image, Timeout, ct);
        return output ?? throw new DocumentParseException("OCR failed: tesseract could not read the image");
    }

    /// <summary>Runs the program; null when it failed. Timeouts and cancellation kill it.</summary>
    private static string? Run(string executable, string[] arguments, byte[]? input, TimeSpan timeout, CancellationToken ct)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // One thread per run: ingestion already runs documents in parallel, and OpenMP oversubscribes small machines.
        start.Environment["OMP_THREAD_LIMIT"] = "1";

        using var process = StartOrNull(start);
        if (process is null)
        {
            return null;
        }

        using var stop = ct.Register(() => Kill(process));
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            if (input is not null)
            {
                process.StandardInput.BaseStream.Write(input);
                process.StandardInput.Close();
            }
        }
        catch (IOException)
        {
            // tesseract closed its input early (unreadable image); its exit code tells the rest.
        }

        if (!process.WaitForExit(timeout))
        {
            Kill(process);
            ct.ThrowIfCancellationRequested();
            throw new DocumentParseException($"OCR took longer than {timeout.TotalSeconds:0} seconds for one image");
        }

        ct.ThrowIfCancellationRequested();
        Task.WaitAll(stdout, stderr);
        return process.ExitCode == 0 ? stdout.Result : null;
    }

    private static Process? StartOrNull(ProcessStartInfo start)
    {
        try
        {
            return Process.Start(start);
        }
        catch (Win32Exception)
        {
            // Removed or not executable since it was detected.
            return null;
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private static string? FindOnPath(string program)
    {
        var names = OperatingSystem.IsWindows() ? new[] { program + ".exe" } : [program];
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in names)
            {
                var candidate = Path.Combine(directory, name);
                if (File.Exists(candidate) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
