using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.Governance.Pii;

/// <summary>The outcome of applying a policy to a chat request body.</summary>
public abstract record PiiBodyResult
{
    private PiiBodyResult()
    {
    }

    public sealed record Blocked(string Kind, PiiRule Rule) : PiiBodyResult;

    /// <summary>A new body (the input is left untouched) and the vault of this request.</summary>
    public sealed record Masked(JsonObject Body, PiiVault Vault) : PiiBodyResult;
}

/// <summary>
/// Applies the guard to an OpenAI chat request (every text a client controls that a vendor sees: message content as a
/// string or text parts, for every role including tool results, and assistant tool-call arguments), and restores a
/// <c>chat.completion</c> answer (message content, refusal and tool-call arguments).
/// </summary>
public static class PiiChatWire
{
    public static PiiBodyResult MaskChatRequest(this PiiGuard guard, PiiPolicy policy, JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(guard);
        ArgumentNullException.ThrowIfNull(body);
        var copy = (JsonObject)body.DeepClone();
        var vault = new PiiVault();
        PiiResult.Blocked? blocked = null;

        // Masks a string in place; false once something is blocked, which stops the walk.
        bool Mask(JsonNode? node, Action<JsonNode> replace)
        {
            if (blocked is not null || !TryString(node, out var text))
            {
                return blocked is null;
            }
            switch (guard.Apply(policy, text, vault))
            {
                case PiiResult.Blocked b:
                    blocked = b;
                    return false;
                case PiiResult.Masked m when !ReferenceEquals(m.Text, text):
                    replace(JsonValue.Create(m.Text));
                    break;
            }
            return true;
        }

        bool MaskArguments(JsonObject? function)
        {
            if (function is null || !TryString(function["arguments"], out var arguments))
            {
                return true;
            }
            JsonNode? parsed;
            try
            {
                parsed = JsonNode.Parse(arguments);
            }
            catch (JsonException)
            {
                // Not JSON: masked as text, which is what the vendor sees anyway.
                return Mask(function["arguments"], n => function["arguments"] = n);
            }
            if (parsed is null)
            {
                return true;
            }
            var changed = false;
            var ok = MaskTree(parsed, n => parsed = n, ref changed);
            if (ok && changed)
            {
                function["arguments"] = parsed.ToJsonString(Mulan.Gateway.Wire.WireJson.Serializer);
            }
            return ok;
        }

        // Inside parsed arguments every string value is masked, and so is a number that is data (a card number
        // written as a JSON number becomes a string placeholder).
        bool MaskTree(JsonNode node, Action<JsonNode> replace, ref bool changed)
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (key, value) in obj.ToList())
                    {
                        if (value is not null && !MaskTree(value, n => obj[key] = n, ref changed))
                        {
                            return false;
                        }
                    }
                    return true;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                    {
                        var at = i;
                        if (array[i] is { } item && !MaskTree(item, n => array[at] = n, ref changed))
                        {
                            return false;
                        }
                    }
                    return true;
                case JsonValue value when value.GetValueKind() is JsonValueKind.String or JsonValueKind.Number:
                    var text = value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();
                    switch (guard.Apply(policy, text, vault))
                    {
                        case PiiResult.Blocked b:
                            blocked = b;
                            return false;
                        case PiiResult.Masked m when !ReferenceEquals(m.Text, text):
                            replace(JsonValue.Create(m.Text));
                            changed = true;
                            break;
                    }
                    return true;
                default:
                    return true;
            }
        }

        foreach (var message in (copy["messages"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var ok = message["content"] switch
            {
                JsonArray parts => parts.OfType<JsonObject>().Where(p => TryString(p["type"], out var t) && t == "text")
                    .All(p => Mask(p["text"], n => p["text"] = n)),
                var content => Mask(content, n => message["content"] = n),
            };
            ok = ok && (message["tool_calls"] as JsonArray ?? []).OfType<JsonObject>().All(call => MaskArguments(call["function"] as JsonObject));
            ok = ok && MaskArguments(message["function_call"] as JsonObject);
            if (!ok)
            {
                break;
            }
        }
        return blocked is not null ? new PiiBodyResult.Blocked(blocked.Kind, blocked.Rule) : new PiiBodyResult.Masked(copy, vault);
    }

    /// <summary>A copy of a <c>chat.completion</c> with the originals back in every choice's message.</summary>
    public static JsonObject RestoreChatCompletion(this PiiVault vault, JsonObject completion)
    {
        ArgumentNullException.ThrowIfNull(vault);
        ArgumentNullException.ThrowIfNull(completion);
        var copy = (JsonObject)completion.DeepClone();
        foreach (var choice in (copy["choices"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (choice["message"] is not JsonObject message)
            {
                continue;
            }
            Restore(message, "content", vault, jsonString: false);
            Restore(message, "refusal", vault, jsonString: false);
            foreach (var call in (message["tool_calls"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (call["function"] is JsonObject function)
                {
                    Restore(function, "arguments", vault, jsonString: true);
                }
            }
            if (message["function_call"] is JsonObject legacy)
            {
                Restore(legacy, "arguments", vault, jsonString: true);
            }
        }
        return copy;
    }

    private static void Restore(JsonObject owner, string property, PiiVault vault, bool jsonString)
    {
        if (TryString(owner[property], out var text) && vault.Restore(text, jsonString) is var restored && !ReferenceEquals(restored, text))
        {
            owner[property] = restored;
        }
    }

    private static bool TryString(JsonNode? node, out string text)
    {
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            text = value.GetValue<string>();
            return true;
        }
        text = "";
        return false;
    }

    /// <summary>
    /// Masks (or finds a block in) the texts of an embeddings request (<c>input</c>, a string or an array of strings);
    /// the input is not changed. Token-id inputs carry no text and pass as they are.
    /// </summary>
    public static PiiBodyResult MaskEmbeddingsRequest(this PiiGuard guard, PiiPolicy policy, JsonObject body)
    {
        var copy = body.DeepClone().AsObject();
        var vault = new PiiVault();
        PiiResult.Blocked? MaskText(JsonNode? node, Action<string> replace)
        {
            if (!TryString(node, out var text))
            {
                return null;
            }
            switch (guard.Apply(policy, text, vault))
            {
                case PiiResult.Blocked b:
                    return b;
                case PiiResult.Masked m:
                    replace(m.Text);
                    break;
            }
            return null;
        }
        var blocked = copy["input"] is JsonArray inputs
            ? Enumerable.Range(0, inputs.Count).Select(i => MaskText(inputs[i], t => inputs[i] = t)).FirstOrDefault(b => b is not null)
            : MaskText(copy["input"], t => copy["input"] = t);
        return blocked is null ? new PiiBodyResult.Masked(copy, vault) : new PiiBodyResult.Blocked(blocked.Kind, blocked.Rule);
    }
}
