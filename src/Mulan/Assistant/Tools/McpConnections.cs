using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Mulan.Outbound;

namespace Mulan.Assistant.Tools;

/// <summary>
/// Clients of MCP tool sources. A streamable-HTTP server is reached through the guarded client (the source's allowed
/// hosts apply as for OpenAPI sources); a stdio server is a command started on this machine, with a curated
/// environment (not the server's own, which holds the administrator key): only an administrator can add one. One client
/// per source is kept for calls and dropped when it fails; all are disposed when the server stops.
/// </summary>
public sealed class McpConnections(GuardedHttpClient web, ToolCredentials credentials, ILoggerFactory loggers) : IAsyncDisposable
{
    /// <summary>Connecting and listing tools, at creation and for each new connection (15 s).</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    private readonly ConcurrentDictionary<string, Lazy<Task<McpClient>>> _clients = new(StringComparer.Ordinal);

    /// <summary>Connects (bounded by <see cref="ConnectTimeout"/>); the caller owns the client.</summary>
    /// <exception cref="McpUnreachableException">the server could not be reached or started, or did not complete the handshake.</exception>
    public async Task<McpClient> ConnectAsync(McpEndpoint endpoint, IReadOnlyList<string> allowHosts, string? credentialHeader, string? secret,
        CancellationToken ct)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(ConnectTimeout);
        IClientTransport transport;
        if (endpoint.Url is { } url)
        {
            var uri = new Uri(url);
            GuardedHttpClient.CheckScheme(uri);
            var options = new HttpClientTransportOptions { Endpoint = uri, TransportMode = HttpTransportMode.StreamableHttp, ConnectionTimeout = ConnectTimeout, Name = uri.Host };
            if (secret is not null && credentialHeader is not null)
            {
                options.AdditionalHeaders = new Dictionary<string, string> { [credentialHeader] = secret };
            }
            transport = new HttpClientTransport(options, web.ClientFor(allowHosts), loggers, ownsHttpClient: false);
        }
        else
        {
            transport = new StdioClientTransport(new StdioClientTransportOptions
            {
                Command = endpoint.Command!,
                Arguments = [.. endpoint.Args ?? []],
                Name = Path.GetFileName(endpoint.Command!),
                InheritEnvironmentVariables = false,
                EnvironmentVariables = StdioClientTransportOptions.GetDefaultEnvironmentVariables(),
                ShutdownTimeout = TimeSpan.FromSeconds(2),
            }, loggers);
        }
        try
        {
            return await McpClient.CreateAsync(transport, new McpClientOptions
            {
                ClientInfo = new Implementation { Name = "mulan", Version = Hosting.MulanVersion.Current },
                InitializationTimeout = ConnectTimeout,
            }, loggers, bound.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new McpUnreachableException($"no answer within {ConnectTimeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new McpUnreachableException(ToolOutput.Redact(Innermost(e).Message, secret));
        }
    }

    /// <summary>The server's tools as stored specs: read-only (annotated <c>readOnlyHint: true</c>) means no side effect.</summary>
    public static async Task<IReadOnlyList<StoredTool>> ListAsync(McpClient client, CancellationToken ct)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(ConnectTimeout);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        return [.. (await client.ListToolsAsync(cancellationToken: bound.Token)).Select(t =>
        {
            var tool = t.ProtocolTool;
            var schema = JsonNode.Parse(tool.InputSchema.GetRawText()) as JsonObject ?? new JsonObject { ["type"] = "object" };
            return new StoredTool(ToolNames.Unique(ToolNames.Sanitize(tool.Name), taken), OpenApiSchemas.Short(tool.Description ?? tool.Title) ?? tool.Name,
                schema, tool.Annotations?.ReadOnlyHint != true, Remote: tool.Name);
        })];
    }

    public async Task<ToolResult> CallAsync(ToolSource source, StoredTool tool, JsonObject arguments, CancellationToken ct)
    {
        var secret = credentials.Unprotect(source.ProtectedCredential);
        var key = $"{source.Id}@{source.UpdatedAt.ToUnixTimeMilliseconds()}";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(source.Definition.TimeoutSeconds));
        var lazy = _clients.GetOrAdd(key, _ => new Lazy<Task<McpClient>>(() =>
            ConnectAsync(source.Definition.Mcp!, source.Definition.AllowHosts, source.Definition.CredentialHeader, secret, CancellationToken.None)));
        try
        {
            var client = await lazy.Value.WaitAsync(timeout.Token);
            var args = arguments.ToDictionary(p => p.Key, p => (object?)JsonSerializer.SerializeToElement(p.Value, JsonNodeContext.Default.JsonNode));
            var result = await client.CallToolAsync(tool.Remote ?? tool.Name, args, cancellationToken: timeout.Token);
            var text = ToolOutput.Cap(ToolOutput.Redact(Text(result), secret));
            return result.IsError == true ? new ToolResult(false, text, ToolOutput.Cap(text, ToolOutput.ErrorExcerpt)) : new ToolResult(true, text, null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await DropAsync(key, lazy);
            return ToolResult.Failed($"no answer within {source.Definition.TimeoutSeconds} s");
        }
        catch (McpUnreachableException e)
        {
            await DropAsync(key, lazy);
            return ToolResult.Failed($"mcp server unreachable: {e.Message}");
        }
        catch (Exception e) when (e is McpException or IOException or HttpRequestException or InvalidOperationException or JsonException or ObjectDisposedException)
        {
            // A protocol-level error (unknown tool, bad arguments) leaves the session usable; a broken transport does not:
            // dropping it either way costs one reconnect.
            await DropAsync(key, lazy);
            return ToolResult.Failed(ToolOutput.Redact($"the MCP call failed: {Innermost(e).Message}", secret));
        }
    }

    private async Task DropAsync(string key, Lazy<Task<McpClient>> lazy)
    {
        if (_clients.TryRemove(new KeyValuePair<string, Lazy<Task<McpClient>>>(key, lazy)) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
        {
            await lazy.Value.Result.DisposeAsync();
        }
    }

    /// <summary>Forgets the clients of a deleted source.</summary>
    public async Task ForgetAsync(string sourceId)
    {
        foreach (var (key, lazy) in _clients.Where(c => c.Key.StartsWith(sourceId + "@", StringComparison.Ordinal)).ToList())
        {
            await DropAsync(key, lazy);
        }
    }

    private static string Text(CallToolResult result)
    {
        var parts = new List<string>();
        foreach (var block in result.Content ?? [])
        {
            parts.Add(block switch
            {
                TextContentBlock t => t.Text,
                ImageContentBlock i => $"(image {i.MimeType}, not shown)",
                AudioContentBlock a => $"(audio {a.MimeType}, not shown)",
                EmbeddedResourceBlock { Resource: TextResourceContents r } => r.Text,
                EmbeddedResourceBlock { Resource: { } r } => $"(resource {r.Uri} {r.MimeType}, not shown)",
                ResourceLinkBlock l => $"(resource link {l.Uri})",
                _ => $"({block.Type} content, not shown)",
            });
        }
        if (parts.Count == 0 && result.StructuredContent is { } structured)
        {
            parts.Add(structured.ToString());
        }
        return string.Join("\n", parts);
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is { } inner && e is not McpProtocolException)
        {
            e = inner;
        }
        return e;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (key, lazy) in _clients.ToList())
        {
            await DropAsync(key, lazy);
        }
    }
}

/// <summary>An MCP server that could not be reached, started or initialized.</summary>
public sealed class McpUnreachableException(string message) : Exception(message);

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonNode))]
internal sealed partial class JsonNodeContext : System.Text.Json.Serialization.JsonSerializerContext;
