namespace Mulan.Bench.Hosting;

/// <summary>A run cannot go on (a build or a required arm is missing); the message says what to do.</summary>
internal sealed class BenchException(string message) : Exception(message);
