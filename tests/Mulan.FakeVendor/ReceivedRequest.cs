namespace Mulan.FakeVendor;

/// <summary>One request exactly as it reached the fake vendor (header names are case-insensitive).</summary>
public sealed record ReceivedRequest(
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    byte[] Body,
    DateTimeOffset At);
