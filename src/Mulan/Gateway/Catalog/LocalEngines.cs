namespace Mulan.Gateway.Catalog;

/// <summary>
/// The provider named <c>local</c> (kind <c>local</c>), always present: its models are the engines Mulan runs itself, so
/// audio and scans of a "local only" workspace never leave the machine. Also which kinds of route each protocol can serve.
/// </summary>
public static class LocalEngines
{
    public const string ProviderName = "local";
    public const string Tesseract = "tesseract";
    public const string EspeakNg = "espeak-ng";
    public const string Flite = "flite";
    public const string Pocketsphinx = "pocketsphinx";
    public const string Whisper = "whisper";

    /// <summary>Each engine and the one kind of route it serves.</summary>
    public static readonly IReadOnlyDictionary<string, ModelKind> Models = new Dictionary<string, ModelKind>(StringComparer.Ordinal)
    {
        [Tesseract] = ModelKind.Ocr,
        [EspeakNg] = ModelKind.Speech,
        [Flite] = ModelKind.Speech,
        [Pocketsphinx] = ModelKind.Transcription,
        [Whisper] = ModelKind.Transcription,
    };

    public static Provider Provider { get; } = new(ProviderName, ProviderKind.All["local"], new Uri("http://127.0.0.1/"), null,
        new Dictionary<string, string>(), CatalogSource.Config) { IsLocal = true };

    /// <summary>Which route kinds a protocol serves (chat covers embeddings).</summary>
    public static bool Serves(WireProtocol protocol, ModelKind kind) => (protocol, kind) switch
    {
        (WireProtocol.Local, ModelKind.Chat) => false,
        (WireProtocol.Local, _) => true,
        (WireProtocol.IFlytek, ModelKind.Transcription or ModelKind.Speech) => true,
        (WireProtocol.TencentCloud, ModelKind.Transcription or ModelKind.Ocr) => true,
        (WireProtocol.DashScope, ModelKind.Chat or ModelKind.Transcription or ModelKind.Speech) => true,
        (WireProtocol.OpenAICompatible, _) => true,
        (WireProtocol.IFlytek or WireProtocol.TencentCloud, _) => false,
        (_, ModelKind.Chat) => true,
        _ => false,
    };

    /// <summary>Null when <paramref name="model"/> on <paramref name="provider"/> can serve a route of <paramref name="kind"/>; else why not.</summary>
    public static string? Check(Provider provider, string model, ModelKind kind)
    {
        var protocol = provider.Kind.Protocol;
        if (protocol == WireProtocol.Local)
        {
            if (!Models.TryGetValue(model, out var served))
            {
                return $"the local provider's engines are {string.Join(", ", Models.Keys)} (got '{model}')";
            }
            return served == kind ? null : $"'{model}' is an engine for {ModelKinds.Name(served)} routes; this route's kind is {ModelKinds.Name(kind)}";
        }
        return Serves(protocol, kind) ? null
            : $"provider '{provider.Name}' (kind {provider.Kind.Name}) does not serve {ModelKinds.Name(kind)} routes";
    }
}
