using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Adapters.Spark;
using Mulan.Gateway.Catalog;

namespace Mulan.Speech.Adapters.IFlytek;

/// <summary>
/// One signed WebSocket session with iFlytek (IAT or TTS): connect within the call's connect timeout, send JSON frames,
/// read JSON frames within the call's byte budget, close. One session per connection, as the vendor wants.
/// </summary>
internal sealed class IFlytekSocket : IAsyncDisposable
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);
    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _buffer = new byte[16 * 1024];
    private readonly MediaCall _call;
    private long _read;

    private IFlytekSocket(MediaCall call) => _call = call;

    /// <summary>Opens a session at <paramref name="uri"/> (already signed).</summary>
    /// <exception cref="VendorError">the handshake was refused (401/403 → Auth).</exception>
    /// <exception cref="HttpRequestException">the handshake did not complete within the connect timeout.</exception>
    public static async Task<IFlytekSocket> ConnectAsync(MediaCall call, Uri uri, TimeProvider time, CancellationToken ct)
    {
        var session = new IFlytekSocket(call);
        var socket = session._socket;
        Gateway.Adapters.VendorSocket.Prepare(socket, call.RequestId, call.Deployment.Provider.Headers);
        using var timeout = new CancellationTokenSource(call.ConnectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            await socket.ConnectAsync(uri, linked.Token);
            return session;
        }
        catch (WebSocketException) when ((int)socket.HttpStatusCode >= 400)
        {
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            throw IFlytekErrors.Handshake(status);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            socket.Dispose();
            throw new HttpRequestException(HttpRequestError.ConnectionError,
                $"the iFlytek handshake did not complete within {call.ConnectTimeout.TotalSeconds:0.###} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The signed URL for <paramref name="path"/> at <paramref name="socketBase"/> (<c>wss://host</c>).</summary>
    public static Uri Sign(Uri socketBase, string path, string apiKey, string apiSecret, TimeProvider time) =>
        SparkUrlSigner.SignedUri(socketBase, path, apiKey, apiSecret, SparkUrlSigner.Date(time.GetUtcNow()));

    public Task SendAsync(JsonObject frame, CancellationToken ct) =>
        _socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(frame.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, ct);

    /// <summary>The next frame as a JSON object; null when the server closed the session.</summary>
    /// <exception cref="VendorError">the frame is not a JSON object, or the session's answers exceed the call's byte budget.</exception>
    public async Task<JsonObject?> ReceiveAsync(CancellationToken ct)
    {
        using var message = new MemoryStream();
        ValueWebSocketReceiveResult received;
        do
        {
            received = await _socket.ReceiveAsync(_buffer.AsMemory(), ct);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            _read += received.Count;
            // Checked per read, so an endless frame is refused after one buffer past the limit, not after it is whole.
            if (_read > _call.MaxResponseBytes)
            {
                throw VendorError.Server($"the iFlytek answer exceeded {_call.MaxResponseBytes} bytes");
            }
            message.Write(_buffer, 0, received.Count);
        }
        while (!received.EndOfMessage);
        try
        {
            return JsonNode.Parse(message.GetBuffer().AsSpan(0, (int)message.Length)) as JsonObject
                ?? throw VendorError.Server("iFlytek sent a frame that is not a JSON object");
        }
        catch (System.Text.Json.JsonException)
        {
            throw VendorError.Server("iFlytek sent a frame that is not JSON");
        }
    }

    /// <summary>Bytes read so far; a caller running several sessions carries the budget over with <paramref name="used"/>.</summary>
    public long Read => _read;

    public void Charge(long used) => _read += used;

    /// <summary>True once the session's last frame (<c>data.status</c> 2) has been read.</summary>
    public bool IsFinished { get; private set; }

    public IFlytekSocket Finished()
    {
        IsFinished = true;
        return this;
    }

    /// <summary>Throws the canonical error when the frame carries a non-zero <c>code</c>.</summary>
    public static void ThrowIfError(JsonObject frame)
    {
        var code = frame["code"] is JsonValue value && value.TryGetValue<int>(out var c) ? c : 0;
        if (code != 0)
        {
            throw IFlytekErrors.Map(code, frame["message"] is JsonValue m && m.TryGetValue<string>(out var s) ? s : null);
        }
    }

    // Sends our close frame without waiting for the server's: the answer is complete (or abandoned) either way.
    public async ValueTask DisposeAsync()
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The connection is going away regardless; disposing it aborts what is left.
            }
        }
        _socket.Dispose();
    }
}
