using System.Globalization;

namespace Mulan.FakeVendor;

/// <summary>
/// Behaviour chosen by the model name, e.g. <c>fake-chat+chunks=64+gap=20</c>. Carrying the
/// behaviour in the request itself keeps concurrent tests independent of each other.
/// </summary>
internal sealed record ModelSpec
{
    public const int DefaultChunks = 12;
    public const int MaxChunks = 100_000;
    private const int MaxDelayMs = 600_000;

    public required string BaseName { get; init; }
    public int Chunks { get; init; } = DefaultChunks;
    public int GapMs { get; init; }
    public bool NoUsage { get; init; }
    public bool Moonshot { get; init; }
    public bool Tools { get; init; }

    /// <summary>Native fakes: answer "quota exhausted" / "content filtered" in the vendor's own words.</summary>
    public bool Quota { get; init; }

    /// <summary>Reply with the last user message, streamed 3 characters a delta (token counts are then approximate).</summary>
    public bool Echo { get; init; }

    /// <summary>Answer like a grounded model (<c>+cite</c>): the first sentence of source 1 with its marker [1], NOT_FOUND
    /// when the prompt quotes no source, and the question itself for a rewrite request. Streamed like <c>+echo</c>.</summary>
    public bool Cite { get; init; }

    /// <summary>A gullible tool-calling model (<c>+agent</c>, see <see cref="AgentReply"/>).</summary>
    public bool Agent { get; init; }
    public bool Filter { get; init; }
    public int? FailStatus { get; init; }

    /// <summary>Percent of requests answered 500 at random (<c>failrate=N</c>), for load tests of fallback.</summary>
    public int FailRate { get; init; }
    public int FirstByteMs { get; init; }
    public int? ResetAfter { get; init; }
    public int? ErrorEventAfter { get; init; }

    /// <summary>The message of that error event (queued faults only); null for the fixed one.</summary>
    public string? ErrorEventMessage { get; init; }

    /// <summary>Parses <c>base(+option)*</c>; on failure <paramref name="error"/> says which option is wrong.</summary>
    public static bool TryParse(string model, out ModelSpec spec, out string error)
    {
        var parts = model.Split('+');
        spec = new ModelSpec { BaseName = parts[0] };
        error = "";
        if (parts[0].Length == 0)
        {
            error = $"The model `{model}` does not exist: empty base name.";
            return false;
        }

        for (var i = 1; i < parts.Length; i++)
        {
            var option = parts[i];
            var eq = option.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? option : option[..eq];
            var value = eq < 0 ? null : option[(eq + 1)..];
            ModelSpec? next = (name, value) switch
            {
                ("nousage", null) => spec with { NoUsage = true },
                ("moonshot", null) => spec with { Moonshot = true },
                ("tools", null) => spec with { Tools = true },
                ("quota", null) => spec with { Quota = true },
                ("echo", null) => spec with { Echo = true },
                ("cite", null) => spec with { Echo = true, Cite = true },
                ("agent", null) => spec with { Agent = true },
                ("filter", null) => spec with { Filter = true },
                ("chunks", { } v) when TryInt(v, 0, MaxChunks, out var n) => spec with { Chunks = n },
                ("gap", { } v) when TryInt(v, 0, MaxDelayMs, out var n) => spec with { GapMs = n },
                ("fail", { } v) when TryInt(v, 400, 599, out var n) => spec with { FailStatus = n },
                ("failrate", { } v) when TryInt(v, 0, 100, out var n) => spec with { FailRate = n },
                ("firstbyte", { } v) when TryInt(v, 0, MaxDelayMs, out var n) => spec with { FirstByteMs = n },
                ("reset", { } v) when TryInt(v, 0, MaxChunks, out var n) => spec with { ResetAfter = n },
                ("errorevent", { } v) when TryInt(v, 0, MaxChunks, out var n) => spec with { ErrorEventAfter = n },
                _ => null,
            };
            if (next is null)
            {
                error = $"Unknown or invalid model option `{option}` in model `{model}`.";
                return false;
            }

            spec = next;
        }

        return true;
    }

    /// <summary>Folds a queued fault in (faults win over options given in the model name), and draws <c>failrate</c>.</summary>
    public ModelSpec With(FakeFault? fault) => (FailRate > 0 && FailStatus is null && Random.Shared.Next(100) < FailRate ? this with { FailStatus = 500 } : this).Apply(fault);

    private ModelSpec Apply(FakeFault? fault) => fault switch
    {
        FakeFault.SlowFirstByte s => this with { FirstByteMs = FirstByteMs + (int)Math.Clamp(s.Delay.TotalMilliseconds, 0, MaxDelayMs) },
        FakeFault.ResetAfter r => this with { ResetAfter = Math.Max(0, r.Chunks) },
        FakeFault.ErrorEvent e => this with { ErrorEventAfter = Math.Max(0, e.AfterChunks), ErrorEventMessage = e.Message },
        _ => this,
    };

    private static bool TryInt(string text, int min, int max, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
}
