using System.Text.Json;

namespace Mulan.FakeVendor;

/// <summary>The parts of a chat completion request the fake acts on.</summary>
internal sealed record ChatRequest(string Model, bool Stream, bool IncludeUsage, int PromptTokens, int ReplyStart)
{
    /// <summary>The last user message's text (string content), for <c>+echo</c>.</summary>
    public string LastUserText { get; init; } = "";

    /// <summary>Validates like the vendor would; <paramref name="error"/> is the 400 message on failure.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> body, out ChatRequest request, out string error)
    {
        request = new ChatRequest("", false, false, 0, 0);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            error = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)";
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "The request body must be a JSON object.";
                return false;
            }

            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String)
            {
                error = "you must provide a model parameter";
                return false;
            }

            request = request with { Model = model.GetString()! };
            if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            {
                error = "Missing required parameter: 'messages'.";
                return false;
            }

            var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            var includeUsage = root.TryGetProperty("stream_options", out var options)
                && options.ValueKind == JsonValueKind.Object
                && options.TryGetProperty("include_usage", out var include)
                && include.ValueKind == JsonValueKind.True;
            JsonElement? tools = root.TryGetProperty("tools", out var t) ? t : null;

            var lastUser = "";
            foreach (var m in messages.EnumerateArray())
            {
                if (m.ValueKind == JsonValueKind.Object && m.TryGetProperty("role", out var role) && role.ValueEquals("user")
                    && m.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                {
                    lastUser = content.GetString()!;
                }
            }

            request = request with
            {
                LastUserText = lastUser,
                Stream = stream,
                IncludeUsage = includeUsage,
                PromptTokens = PromptTokenCounter.Count(messages, tools),
                ReplyStart = (int)(Fnv1a(body.Span) % (uint)ReplyVocabulary.Count),
            };
            error = "";
            return true;
        }
    }

    /// <summary>Best effort model name for bills of requests that are refused before parsing.</summary>
    public static string SniffModel(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("model", out var model)
                && model.ValueKind == JsonValueKind.String
                ? model.GetString()!
                : "";
        }
        catch (JsonException)
        {
            return "";
        }
    }

    /// <summary>Same body, same reply: the reply is seeded from the request bytes.</summary>
    public static uint Fnv1a(ReadOnlySpan<byte> bytes)
    {
        var hash = 2166136261u;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash;
    }
}
