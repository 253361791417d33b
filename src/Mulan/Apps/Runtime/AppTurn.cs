using System.Globalization;
using System.Text.Json.Nodes;
using Mulan.Gateway.Wire;

namespace Mulan.Apps.Runtime;

public sealed record HistoryMessage(string Role, string Content);

/// <summary>
/// What one <c>app:&lt;slug&gt;</c> request asks: the end user's message, the history sent along (when no stored
/// conversation is continued), the copywriter's inputs, and the documented extras (<c>conversation_id</c>, <c>inputs</c>).
/// </summary>
public sealed record AppTurn(string Question, IReadOnlyList<HistoryMessage> History, string? ConversationId, IReadOnlyDictionary<string, string> Inputs, int? N)
{
    public const int MaxQuestionLength = 8_000;
    public const int MaxInputLength = 4_000;

    /// <summary>Reads the request; null with <paramref name="error"/> when it cannot be served as an app turn.</summary>
    public static AppTurn? Read(JsonObject body, AppDefinition app, out OpenAIError? error)
    {
        error = null;
        var messages = (JsonArray)body["messages"]!;
        var history = new List<HistoryMessage>();
        string? question = null;
        for (var i = 0; i < messages.Count; i++)
        {
            var m = (JsonObject)messages[i]!;
            var role = m["role"] is JsonValue r && r.TryGetValue<string>(out var rs) ? rs : null;
            var text = TextOf(m["content"]);
            if (role is not ("system" or "developer" or "user" or "assistant") || text is null)
            {
                error = OpenAIError.BadRequest($"messages[{i}]: an app takes system, user and assistant messages with text content.", $"messages[{i}]");
                return null;
            }
            if (i == messages.Count - 1)
            {
                if (role != "user" || text.Trim().Length == 0)
                {
                    error = OpenAIError.BadRequest("The last message must be the end user's, with text.", $"messages[{i}]");
                    return null;
                }
                question = text.Trim();
            }
            else if (role is "user" or "assistant")
            {
                // The app's own instructions stand in for a client's system messages.
                history.Add(new HistoryMessage(role, text));
            }
        }
        if (question!.Length > MaxQuestionLength)
        {
            error = OpenAIError.BadRequest($"The end user's message may hold at most {MaxQuestionLength} characters.", "messages");
            return null;
        }
        string? conversation = null;
        switch (body["conversation_id"])
        {
            case null:
                break;
            case JsonValue v when v.TryGetValue<string>(out var id) && id.Length is > 0 and <= 64:
                conversation = id;
                break;
            default:
                error = OpenAIError.BadRequest("'conversation_id' must be the id of a conversation this app returned.", "conversation_id");
                return null;
        }
        var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (body["inputs"])
        {
            case null:
                break;
            case JsonObject given:
                foreach (var (name, value) in given)
                {
                    var text = value switch
                    {
                        JsonValue s when s.TryGetValue<string>(out var str) => str,
                        JsonValue num when num.TryGetValue<double>(out var d) => d.ToString(CultureInfo.InvariantCulture),
                        JsonArray a when a.All(x => x is JsonValue xv && xv.TryGetValue<string>(out _)) => string.Join("; ", a.Select(x => x!.GetValue<string>())),
                        _ => null,
                    };
                    if (text is null || text.Length > MaxInputLength)
                    {
                        error = OpenAIError.BadRequest($"'inputs.{name}' must be a string, a number or a list of strings of at most {MaxInputLength} characters.", $"inputs.{name}");
                        return null;
                    }
                    if (app.Variables?.Any(v => v.Name == name) != true && !AppPrompt.BuiltInVariables.Contains(name) && !CopyInputs.Contains(name))
                    {
                        error = OpenAIError.BadRequest($"'inputs.{name}': the app declares no such variable.", $"inputs.{name}");
                        return null;
                    }
                    inputs[name] = text;
                }
                break;
            default:
                error = OpenAIError.BadRequest("'inputs' must be an object of variable values.", "inputs");
                return null;
        }
        foreach (var v in app.Variables ?? [])
        {
            if (v.Required && v.Default is null && !inputs.ContainsKey(v.Name))
            {
                error = OpenAIError.BadRequest($"'inputs.{v.Name}' is required by this app.", $"inputs.{v.Name}", "missing_input");
                return null;
            }
        }
        int? n = body["n"] is JsonValue nv && nv.TryGetValue<int>(out var count) ? count : null;
        return new AppTurn(question, history, conversation, inputs, n);
    }

    /// <summary>The copywriter's standard inputs, accepted without being declared.</summary>
    public static readonly IReadOnlySet<string> CopyInputs = new HashSet<string>(StringComparer.Ordinal)
    {
        "product", "selling_points", "audience", "channel", "tone", "length",
    };

    private static string? TextOf(JsonNode? content) => content switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonArray parts when parts.All(p => p is JsonObject o && o["type"] is JsonValue t && t.TryGetValue<string>(out var type) && type == "text"
            && o["text"] is JsonValue x && x.TryGetValue<string>(out _)) => string.Concat(parts.Select(p => p!["text"]!.GetValue<string>())),
        _ => null,
    };
}
