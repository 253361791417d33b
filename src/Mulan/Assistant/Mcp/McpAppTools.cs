using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using Mulan.Apps;
using Mulan.Apps.Runtime;
using Mulan.Gateway;
using Mulan.Gateway.Wire;

namespace Mulan.Assistant.Mcp;

/// <summary>
/// One tool per published app the key may use, <c>app_&lt;slug&gt;</c>. A call is an <c>app:&lt;slug&gt;</c> chat
/// completion through the gateway pipeline in process, authenticated with the caller's own key: the key's model
/// rules, limits, budget and the app's guardrails apply, and the ledger records it as it records a client's call.
/// </summary>
public sealed class McpAppTools(AppDirectory directory, GatewayProxy gateway)
{
    public const string Prefix = "app_";
    private const int MaxNameLength = 64;
    private const int MaxConversationIdLength = 64;
    private static readonly string Properties = $$"""
        {
          "message": { "type": "string", "maxLength": {{AppTurn.MaxQuestionLength}}, "description": "what the end user says or asks" },
          "conversation_id": { "type": "string", "maxLength": {{MaxConversationIdLength}}, "description": "continue the conversation an earlier call returned" }
        }
        """;

    /// <summary>The apps this key may call, by tool name. Apps of other workspaces are never among them.</summary>
    public IReadOnlyDictionary<string, PublishedApp> For(McpCaller caller) =>
        directory.InWorkspace(caller.Key.WorkspaceId).Where(a => caller.Key.AllowsModel(a.ModelName)).ToDictionary(a => ToolName(a.App.Slug), StringComparer.Ordinal);

    public IEnumerable<Tool> Tools(McpCaller caller) =>
        For(caller).Select(p => McpSchemas.Tool(p.Key, Describe(p.Value), Properties, ["message"]));

    /// <summary>
    /// <c>app_</c> and the slug, within MCP's <c>^[A-Za-z0-9_-]{1,64}$</c>. Slugs are already of those characters; a slug
    /// too long to fit keeps its start and gets a hash of the whole, so two long slugs never share a name.
    /// </summary>
    public static string ToolName(string slug)
    {
        var clean = new string([.. slug.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_')]);
        if (Prefix.Length + clean.Length <= MaxNameLength)
        {
            return Prefix + clean;
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(slug)))[..8];
        return Prefix + clean[..(MaxNameLength - Prefix.Length - hash.Length - 1)] + "_" + hash;
    }

    private static string Describe(PublishedApp app)
    {
        var d = app.Definition;
        var text = $"{app.App.Name} ({app.App.Kind} app).";
        return d.Description is { Length: > 0 } description ? $"{text} {description}" : text;
    }

    public async Task<CallToolResult> CallAsync(McpCaller caller, PublishedApp app, McpArguments args, HttpContext outer, CancellationToken ct)
    {
        var message = args.Text("message", AppTurn.MaxQuestionLength);
        var conversation = args.OptionalText("conversation_id", MaxConversationIdLength);
        var body = new JsonObject
        {
            ["model"] = app.ModelName,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = message }),
        };
        if (conversation is not null)
        {
            body["conversation_id"] = conversation;
        }
        var ctx = new DefaultHttpContext { RequestServices = outer.RequestServices, RequestAborted = ct };
        ctx.Connection.RemoteIpAddress = outer.Connection.RemoteIpAddress;
        ctx.Request.Method = HttpMethods.Post;
        ctx.Request.Path = "/v1/chat/completions";
        ctx.Request.ContentType = "application/json";
        // The caller's own key, authenticated again by the gateway (no InProcessCall): the app path is a client's call.
        ctx.Request.Headers.Authorization = "Bearer " + caller.Bearer;
        ctx.Request.Body = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(body, WireJson.Serializer));
        using var response = new MemoryStream();
        ctx.Response.Body = response;
        await gateway.HandleAsync(ctx, GatewayEndpoint.ChatCompletions);
        return Interpret(ctx.Response.StatusCode, response.ToArray(), ctx.Response.Headers[GatewayProxy.RequestIdHeader].ToString());
    }

    /// <summary>The app's answer with its citations and conversation, or the gateway's refusal as a tool error.</summary>
    internal static CallToolResult Interpret(int status, byte[] body, string requestId)
    {
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return McpSchemas.Error($"The app answered {status} with a body that is not JSON (request {requestId}).");
        }
        if (status != StatusCodes.Status200OK)
        {
            var error = json?["error"];
            var code = error?["code"] is JsonValue c && c.TryGetValue<string>(out var s) ? $" [{s}]" : "";
            var reason = error?["message"] is JsonValue m && m.TryGetValue<string>(out var text) ? text : "the app refused the request";
            return McpSchemas.Error($"The app could not answer ({status}{code}): {reason}");
        }
        var answer = string.Join("\n\n", (json?["choices"]?.AsArray() ?? []).Select(ch => ch?["message"]?["content"]?.GetValue<string>()).OfType<string>());
        var citations = json?["citations"] as JsonArray ?? [];
        var conversationId = json?["conversation_id"]?.GetValue<string>();
        var textOut = new StringBuilder(answer);
        if (citations.Count > 0)
        {
            textOut.Append("\n\nSources:");
            foreach (var c in citations)
            {
                textOut.Append("\n[").Append(c?["marker"]).Append("] ").Append(c?["title"]?.GetValue<string>()).Append(": ").Append(c?["text"]?.GetValue<string>());
            }
        }
        if (conversationId is not null)
        {
            textOut.Append("\n\nconversation_id: ").Append(conversationId);
        }
        var structured = new JsonObject
        {
            ["answer"] = answer,
            ["found"] = json?["found"]?.DeepClone(),
            ["citations"] = citations.DeepClone(),
            ["conversationId"] = conversationId,
            ["requestId"] = requestId,
        };
        if (json?["run_id"] is { } run)
        {
            // An assistant app: its run, which may wait for a person's approval (see /api/runs/{id}).
            structured["runId"] = run.DeepClone();
            structured["runStatus"] = json["run_status"]?.DeepClone();
        }
        return McpSchemas.Result(textOut.ToString(), structured);
    }
}
