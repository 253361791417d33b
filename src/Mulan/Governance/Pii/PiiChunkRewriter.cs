using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.Governance.Pii;

/// <summary>
/// Restores masked placeholders in a stream of OpenAI chunks, as they pass: one restorer per choice's content and per
/// tool call's arguments, so a placeholder split across deltas comes out whole; what a restorer still holds is let
/// out with the choice's finish chunk.
/// </summary>
public sealed class PiiChunkRewriter(PiiVault vault)
{
    private readonly Dictionary<(int Choice, int Tool), PiiStreamRestorer> _restorers = [];

    /// <summary>The chunk with placeholders restored; the same bytes when it holds no text to restore.</summary>
    public ReadOnlySpan<byte> Rewrite(ReadOnlySpan<byte> payload)
    {
        if (JsonNode.Parse(payload) is not JsonObject chunk || chunk["choices"] is not JsonArray { Count: > 0 } choices)
        {
            return payload;
        }
        foreach (var node in choices)
        {
            if (node is not JsonObject choice)
            {
                continue;
            }
            var index = choice["index"] is JsonValue i && i.TryGetValue<int>(out var n) ? n : 0;
            var finishing = choice["finish_reason"] is JsonValue f && f.GetValueKind() == JsonValueKind.String;
            if (choice["delta"] is not JsonObject delta)
            {
                if (!finishing)
                {
                    continue;
                }
                choice["delta"] = delta = [];
            }
            var content = delta["content"] is JsonValue c && c.TryGetValue<string>(out var text) ? text : null;
            if (content is not null || (finishing && _restorers.ContainsKey((index, -1))))
            {
                var restorer = Restorer(index, -1, jsonString: false);
                var restored = restorer.Feed(content ?? "") + (finishing ? restorer.Flush() : "");
                if (content is not null || restored.Length > 0)
                {
                    delta["content"] = restored;
                }
            }
            if (delta["tool_calls"] is JsonArray calls)
            {
                foreach (var call in calls.OfType<JsonObject>())
                {
                    var tool = call["index"] is JsonValue t && t.TryGetValue<int>(out var ti) ? ti : 0;
                    if (call["function"] is JsonObject function && function["arguments"] is JsonValue a && a.TryGetValue<string>(out var arguments))
                    {
                        function["arguments"] = Restorer(index, tool, jsonString: true).Feed(arguments);
                    }
                }
            }
            if (finishing)
            {
                // Arguments held back at the end of each call go out with the finish chunk.
                foreach (var ((choiceIndex, tool), restorer) in _restorers.Where(r => r.Key.Choice == index && r.Key.Tool >= 0).ToList())
                {
                    if (restorer.Flush() is { Length: > 0 } rest)
                    {
                        var calls2 = delta["tool_calls"] as JsonArray ?? (JsonArray)(delta["tool_calls"] = new JsonArray());
                        calls2.Add(new JsonObject { ["index"] = tool, ["function"] = new JsonObject { ["arguments"] = rest } });
                    }
                }
            }
        }
        return JsonSerializer.SerializeToUtf8Bytes(chunk, Mulan.Gateway.Wire.WireJson.Serializer);
    }

    private PiiStreamRestorer Restorer(int choice, int tool, bool jsonString)
    {
        if (!_restorers.TryGetValue((choice, tool), out var restorer))
        {
            _restorers[(choice, tool)] = restorer = new PiiStreamRestorer(vault, jsonString);
        }
        return restorer;
    }
}
