using System.Text.RegularExpressions;

namespace Mulan.Assistant.Runs;

/// <summary>
/// What a trace never stores: anything shaped like a Mulan key or a vendor key, and bearer credentials. Tool credentials
/// are injected by the server and never reach a step at all; this catches secrets a user typed or a service echoed.
/// </summary>
public static partial class RunRedaction
{
    public const string Marker = "[redacted]";

    [GeneratedRegex(@"\b(?:mka?|sk|sk-ant|sk-proj|AKID|LTAI)[-_][A-Za-z0-9_\-]{12,}|\bBearer\s+[A-Za-z0-9._~+/\-]{12,}=*|\bAKID[A-Za-z0-9]{16,}|\bLTAI[A-Za-z0-9]{12,}")]
    private static partial Regex Secret();

    public static string? Redact(string? text) => text is null ? null : Secret().Replace(text, Marker);
}
