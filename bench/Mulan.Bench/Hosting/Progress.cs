using System.Diagnostics;

namespace Mulan.Bench.Hosting;

/// <summary>Progress lines on stderr with the elapsed time, so stdout carries only the report.</summary>
internal sealed class Progress
{
    private readonly long _start = Stopwatch.GetTimestamp();

    public void Say(string message) =>
        System.Console.Error.WriteLine($"[{Stopwatch.GetElapsedTime(_start).TotalSeconds,6:F1}s] {message}");
}
