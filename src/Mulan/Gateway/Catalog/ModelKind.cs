namespace Mulan.Gateway.Catalog;

/// <summary>What a model route serves. Chat routes also serve embeddings (as before kinds existed).</summary>
public enum ModelKind { Chat, Transcription, Speech, Ocr }

/// <summary>The unit a route's requests are metered in, when it is not tokens.</summary>
public enum MeteredUnit { Seconds, Characters, Pages }

public static class ModelKinds
{
    public static string Name(ModelKind kind) => kind switch
    {
        ModelKind.Transcription => "transcription",
        ModelKind.Speech => "speech",
        ModelKind.Ocr => "ocr",
        _ => "chat",
    };

    public static bool TryParse(string? value, out ModelKind kind)
    {
        kind = value switch
        {
            null or "chat" => ModelKind.Chat,
            "transcription" => ModelKind.Transcription,
            "speech" => ModelKind.Speech,
            "ocr" => ModelKind.Ocr,
            _ => (ModelKind)(-1),
        };
        return Enum.IsDefined(kind);
    }

    public static MeteredUnit? UnitOf(ModelKind kind) => kind switch
    {
        ModelKind.Transcription => MeteredUnit.Seconds,
        ModelKind.Speech => MeteredUnit.Characters,
        ModelKind.Ocr => MeteredUnit.Pages,
        _ => null,
    };

    public static string Name(MeteredUnit unit) => unit switch
    {
        MeteredUnit.Seconds => "seconds",
        MeteredUnit.Characters => "characters",
        _ => "pages",
    };

    public static MeteredUnit? ParseUnit(string? value) => value switch
    {
        "seconds" => MeteredUnit.Seconds,
        "characters" => MeteredUnit.Characters,
        "pages" => MeteredUnit.Pages,
        _ => null,
    };
}
