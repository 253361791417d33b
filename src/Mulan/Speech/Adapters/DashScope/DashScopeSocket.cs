using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Adapters.DashScope;

namespace Mulan.Speech.Adapters.DashScope;

/// <summary>
/// One task on DashScope's WebSocket inference API (help.aliyun.com/zh/model-studio/websocket-for-paraformer-real-time-service
/// and …/cosyvoice-websocket-api): the client sends <c>run-task</c>, then audio (binary) or <c>continue-task</c> text, then
/// <c>finish-task</c>; the server answers <c>task-started</c>, <c>result-generated</c> (and binary audio for TTS), and ends
/// with <c>task-finished</c> or <c>task-failed</c> (<c>header.error_code</c>, <c>header.error_message</c>).
/// </summary>
internal sealed class DashScopeSocket(ClientWebSocket socket, string taskId, long budget) : IDisposable
{
    public const string Path = "/api-ws/v1/inference";
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);
    private readonly byte[] _buffer = new byte[16 * 1024];
    private long _received;

    public string TaskId { get; } = taskId;

    /// <summary><c>https://host</c> → <c>wss://host/api-ws/v1/inference</c>; <c>http://host:port</c> → <c>ws://host:port/…</c>.</summary>
    public static Uri SocketUri(Uri baseUrl) =>
        new($"{(baseUrl.Scheme == Uri.UriSchemeHttps ? "wss" : "ws")}://{baseUrl.Authority}{Path}");

    public static async Task<DashScopeSocket> ConnectAsync(MediaCall call, TimeProvider time, CancellationToken ct)
    {
        var provider = call.Deployment.Provider;
        if (string.IsNullOrEmpty(provider.ApiKey))
        {
            throw VendorError.Auth("the DashScope provider has no apiKey");
        }
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + provider.ApiKey);
        Gateway.Adapters.VendorSocket.Prepare(socket, call.RequestId, provider.Headers);
        using var timeout = new CancellationTokenSource(call.ConnectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            await socket.ConnectAsync(SocketUri(provider.BaseUrl), linked.Token);
        }
        catch (WebSocketException) when ((int)socket.HttpStatusCode >= 400)
        {
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            throw status is 401 or 403
                ? new VendorError(status, VendorError.AuthFailed, $"DashScope refused the WebSocket handshake (HTTP {status}): check the provider's apiKey")
                : VendorError.ForStatus(status, $"DashScope refused the WebSocket handshake (HTTP {status})");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            socket.Dispose();
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"the DashScope handshake did not complete within {call.ConnectTimeout.TotalSeconds:0.###} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new DashScopeSocket(socket, Guid.NewGuid().ToString("N"), Math.Max(1, call.MaxResponseBytes));
    }

    public Task SendActionAsync(string action, JsonObject payload, string streaming, CancellationToken ct)
    {
        var message = new JsonObject
        {
            ["header"] = new JsonObject { ["action"] = action, ["task_id"] = TaskId, ["streaming"] = streaming },
            ["payload"] = payload,
        };
        return socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, ct);
    }

    public Task SendAudioAsync(ReadOnlyMemory<byte> audio, CancellationToken ct) =>
        socket.SendAsync(audio, WebSocketMessageType.Binary, true, ct).AsTask();

    /// <summary>The next message: an event (JSON) or audio (binary); null when the server closed the socket.</summary>
    /// <exception cref="VendorError">more than the call's response budget arrived (the rest is not read).</exception>
    public async Task<(JsonObject? Event, byte[]? Audio)?> ReceiveAsync(CancellationToken ct)
    {
        using var message = new MemoryStream();
        ValueWebSocketReceiveResult received;
        do
        {
            received = await socket.ReceiveAsync(_buffer.AsMemory(), ct);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            _received += received.Count;
            if (_received > budget)
            {
                throw VendorError.Server($"DashScope's answer exceeded {budget} bytes");
            }
            message.Write(_buffer, 0, received.Count);
        }
        while (!received.EndOfMessage);
        if (received.MessageType == WebSocketMessageType.Binary)
        {
            return (null, message.ToArray());
        }
        try
        {
            return (JsonNode.Parse(message.GetBuffer().AsSpan(0, (int)message.Length)) as JsonObject
                ?? throw VendorError.Server("DashScope sent an event that is not a JSON object"), null);
        }
        catch (JsonException)
        {
            throw VendorError.Server("DashScope sent an event that is not JSON: " + Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)Math.Min(message.Length, 200)));
        }
    }

    public static string? EventName(JsonObject e) => Text(e["header"]?["event"]);

    /// <summary>A <c>task-failed</c> event → canonical error (DashScope's error codes, as for its HTTP API).</summary>
    public static VendorError Failure(JsonObject e) => DashScopeAdapter.MapError(500,
        new JsonObject { ["code"] = Text(e["header"]?["error_code"]) ?? "", ["message"] = Text(e["header"]?["error_message"]) ?? "the task failed" }, null);

    /// <summary>Reads up to <c>task-started</c>; a <c>task-failed</c> instead is thrown.</summary>
    public async Task WaitStartedAsync(CancellationToken ct)
    {
        while (true)
        {
            var next = await ReceiveAsync(ct) ?? throw new IOException("DashScope closed the socket before task-started");
            if (next.Event is not { } e)
            {
                continue;
            }
            switch (EventName(e))
            {
                case "task-started":
                    return;
                case "task-failed":
                    throw Failure(e);
            }
        }
    }

    internal static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>Sends our close frame without waiting for the server's: the task is complete (or abandoned) either way.</summary>
    public async Task CloseAsync()
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }
        using var timeout = new CancellationTokenSource(CloseTimeout);
        try
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection is going away regardless; disposing it aborts what is left.
        }
    }

    public void Dispose() => socket.Dispose();
}
