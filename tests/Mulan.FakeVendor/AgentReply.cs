using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mulan.FakeVendor;

/// <summary>
/// A deliberately gullible tool-calling model (<c>+agent</c>). It reads only the LAST message, whoever wrote it (the
/// user, or a tool's result): every <c>CALL name {json}</c> in it becomes a tool call (parallel when several),
/// whether or not that tool was offered and whether or not the JSON is valid; otherwise it answers
/// <c>DONE: </c> and the first 300 characters of that message. So a hostile document or tool output that says
/// "CALL delete_customer ..." is obeyed — which is what the assistant's safeguards must survive.
/// </summary>
internal static partial class AgentReply
{
    private const string Endpoint = "chat";

    // Anywhere in the text (a document's lines may have been joined): CALL, a name, and optionally arguments from a brace
    // to the first closing brace that ends a word.
    [GeneratedRegex(@"\bCALL\s+(?<name>[^\s{}]+)(?:[ \t]+(?<args>\{.*?\})(?=\s|$))?")]
    private static partial Regex CallLine();

    public sealed record Call(string Id, string Name, string Arguments);

    public static (IReadOnlyList<Call> Calls, string Text) Decide(ReadOnlyMemory<byte> body, string vendorRequestId)
    {
        var root = JsonNode.Parse(body.Span);
        var last = root?["messages"] is JsonArray { Count: > 0 } messages ? messages[^1] : null;
        var content = last?["content"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
            _ => "",
        };
        var calls = CallLine().Matches(content)
            .Select((m, i) => new Call($"call_{vendorRequestId}_{i}", m.Groups["name"].Value, m.Groups["args"].Success && m.Groups["args"].Length > 0 ? m.Groups["args"].Value : "{}"))
            .ToList();
        return (calls, calls.Count > 0 ? "" : "DONE: " + (content.Length > 300 ? content[..300] : content));
    }

    public static async Task WriteAsync(HttpContext context, VendorState state, string id, ChatRequest request, ReadOnlyMemory<byte> body)
    {
        var (calls, text) = Decide(body, id);
        var completion = calls.Count > 0 ? calls.Sum(c => O200k.Count(c.Name) + O200k.Count(c.Arguments)) : O200k.Count(text);
        var finish = calls.Count > 0 ? "tool_calls" : "stop";
        if (!request.Stream)
        {
            var message = new JsonObject { ["role"] = "assistant", ["content"] = calls.Count > 0 ? null : text };
            if (calls.Count > 0)
            {
                message["tool_calls"] = new JsonArray([.. calls.Select(c => (JsonNode)new JsonObject
                {
                    ["id"] = c.Id,
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.Arguments },
                })]);
            }
            var reply = new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion",
                ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["model"] = request.Model,
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finish }),
                ["usage"] = Usage(request.PromptTokens, completion),
            };
            var buffer = Json.Scratch();
            buffer.Write(Encoding.UTF8.GetBytes(reply.ToJsonString()));
            context.Response.ContentType = "application/json";
            await Http.WriteBilledAsync(context, state, buffer,
                outcome => state.Bill(context, id, Endpoint, request.Model, request.PromptTokens, completion, outcome, usageSent: true));
            return;
        }
        context.Response.ContentType = "text/event-stream";
        var chunks = new List<JsonObject> { Chunk(id, request.Model, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null) };
        if (calls.Count > 0)
        {
            for (var i = 0; i < calls.Count; i++)
            {
                // The header fragment, then the arguments in two pieces, as OpenAI streams them.
                chunks.Add(Chunk(id, request.Model, ToolDelta(i, new JsonObject { ["name"] = calls[i].Name, ["arguments"] = "" }, calls[i].Id), null));
                var half = calls[i].Arguments.Length / 2;
                chunks.Add(Chunk(id, request.Model, ToolDelta(i, new JsonObject { ["arguments"] = calls[i].Arguments[..half] }, null), null));
                chunks.Add(Chunk(id, request.Model, ToolDelta(i, new JsonObject { ["arguments"] = calls[i].Arguments[half..] }, null), null));
            }
        }
        else
        {
            for (var at = 0; at < text.Length; at += 8)
            {
                chunks.Add(Chunk(id, request.Model, new JsonObject { ["content"] = text[at..Math.Min(text.Length, at + 8)] }, null));
            }
        }
        chunks.Add(Chunk(id, request.Model, new JsonObject(), finish));
        foreach (var chunk in chunks)
        {
            await context.Response.WriteAsync("data: " + chunk.ToJsonString() + "\n\n", context.RequestAborted);
        }
        if (request.IncludeUsage)
        {
            var usage = Chunk(id, request.Model, null, null);
            usage["choices"] = new JsonArray();
            usage["usage"] = Usage(request.PromptTokens, completion);
            await context.Response.WriteAsync("data: " + usage.ToJsonString() + "\n\n", context.RequestAborted);
        }
        state.Bill(context, id, Endpoint, request.Model, request.PromptTokens, completion, BillOutcome.Completed, streamed: true, usageSent: request.IncludeUsage);
        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static JsonObject ToolDelta(int index, JsonObject function, string? callId)
    {
        var call = new JsonObject { ["index"] = index };
        if (callId is not null)
        {
            call["id"] = callId;
            call["type"] = "function";
        }
        call["function"] = function;
        return new JsonObject { ["tool_calls"] = new JsonArray(call) };
    }

    private static JsonObject Chunk(string id, string model, JsonObject? delta, string? finish) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion.chunk",
        ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["model"] = model,
        ["choices"] = delta is null ? null : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
    };

    private static JsonObject Usage(int prompt, int completion) => new()
    {
        ["prompt_tokens"] = prompt,
        ["completion_tokens"] = completion,
        ["total_tokens"] = prompt + completion,
    };
}
