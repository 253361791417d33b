using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Mulan.Gateway.Metering;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Streaming;

/// <summary>
/// Relays an OpenAI-style SSE stream event by event: every read from the upstream is written and flushed to
/// the client before the next read, so nothing is held back. Metering rides along: usage is taken from the
/// upstream's usage chunk (always requested), or estimated from the relayed deltas when there is none.
/// The usage record is made durable before <c>[DONE]</c> reaches the client.
/// </summary>
public sealed partial class StreamRelay(UsageLedger ledger, TokenCounter tokens, IOptions<GatewayOptions> options, ILogger<StreamRelay> logger)
{
    private static ReadOnlySpan<byte> Done => "[DONE]"u8;
    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;
    private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;
    private readonly TimeSpan _idle = TimeSpan.FromSeconds(options.Value.UpstreamTimeoutSeconds);

    public async Task RelayAsync(HttpContext ctx, Exchange x, HttpResponseMessage upstream, CancellationTokenSource timeout, CancellationToken ct)
    {
        var response = ctx.Response;
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        ctx.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var state = new StreamState(x.Request!.ClientWantsUsage)
        {
            Pii = x.PiiVault is { } vault && x.Deployment is { Provider.IsLocal: false } ? new Governance.Pii.PiiChunkRewriter(vault) : null,
        };
        try
        {
            await using var source = await upstream.Content.ReadAsStreamAsync(ct);
            var reader = PipeReader.Create(source, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true));
            var writer = response.BodyWriter;
            await response.StartAsync(ct);
            while (true)
            {
                timeout.CancelAfter(_idle);
                var result = await reader.ReadAsync(ct);
                var buffer = result.Buffer;
                var done = Process(ref buffer, writer, state, x);
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (done)
                {
                    await FinishAsync(ctx, x, state, writer, UsageStatus.Ok, null);
                    return;
                }
                if (writer.UnflushedBytes > 0 && (await writer.FlushAsync(ct)).IsCompleted)
                {
                    throw new OperationCanceledException("client went away");
                }
                if (result.IsCompleted)
                {
                    break;
                }
            }
            // The upstream closed without [DONE]: a clean end unless it sent an error event.
            await FinishAsync(ctx, x, state, writer, state.UpstreamError is null ? UsageStatus.Ok : UsageStatus.UpstreamError, state.UpstreamError);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            if (ctx.RequestAborted.IsCancellationRequested || e is OperationCanceledException { Message: "client went away" })
            {
                await ledger.TryRecordAsync(x.ToRecord(UsageStatus.ClientAborted, Usage(x, state), 499, "client closed the stream"));
                return;
            }
            var reason = e is OperationCanceledException ? "the upstream stopped sending (idle timeout, or the deployment's total timeout)" : "the upstream connection was lost mid-stream";
            LogMidStream(logger, x.RequestId, x.Deployment!.Provider.Name, reason);
            var error = new OpenAIError(502, reason, "upstream_error", null, "upstream_stream_error");
            await ledger.TryRecordAsync(x.ToRecord(UsageStatus.UpstreamError, Usage(x, state), 502, reason));
            try
            {
                // Headers are gone; the clean way to tell the client is an error event and no [DONE].
                Write(response.BodyWriter, DataPrefix, error.ToJson(), EventEnd);
                await response.BodyWriter.FlushAsync(ctx.RequestAborted);
            }
            catch (Exception writeFailure) when (writeFailure is IOException or OperationCanceledException)
            {
                // The client left too; the record above already holds the outcome.
            }
        }
    }

    private async Task FinishAsync(HttpContext ctx, Exchange x, StreamState state, PipeWriter writer, UsageStatus status, string? error)
    {
        var ok = await ledger.TryRecordAsync(x.ToRecord(status, Usage(x, state), status == UsageStatus.Ok ? 200 : 502, error));
        if (!ok)
        {
            var failure = new OpenAIError(503, "The usage ledger is unavailable; the stream was not completed.", "service_unavailable", null, "ledger_unavailable");
            Write(writer, DataPrefix, failure.ToJson(), EventEnd);
        }
        else if (status == UsageStatus.Ok)
        {
            Write(writer, DataPrefix, Done, EventEnd);
        }
        await writer.FlushAsync(ctx.RequestAborted);
    }

    private UsageFigures Usage(Exchange x, StreamState state)
    {
        if (state.Usage is { } reported)
        {
            return reported;
        }
        var input = tokens.CountChatInput(x.Request!.Body);
        var text = new ResponseText();
        foreach (var chunk in state.Chunks())
        {
            text.AddChunk(chunk.Span);
        }
        return new UsageFigures(input, 0, text.Count(tokens), UsageSource.Estimated);
    }

    // Consumes whole lines from the buffer; returns true at [DONE].
    private static bool Process(ref ReadOnlySequence<byte> buffer, PipeWriter writer, StreamState state, Exchange x)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryReadTo(out ReadOnlySequence<byte> raw, (byte)'\n'))
        {
            var line = raw.IsSingleSegment ? raw.FirstSpan : raw.ToArray();
            if (line.Length > 0 && line[^1] == '\r')
            {
                line = line[..^1];
            }
            if (line.IsEmpty)
            {
                if (state.Pending.WrittenCount > 0)
                {
                    var payload = state.Pending.WrittenSpan;
                    if (payload.SequenceEqual(Done))
                    {
                        buffer = buffer.Slice(reader.Position);
                        state.Pending.ResetWrittenCount();
                        return true;
                    }
                    Dispatch(payload, writer, state, x);
                    state.Pending.ResetWrittenCount();
                }
                continue;
            }
            if (line.StartsWith("data:"u8))
            {
                var data = line[5..];
                if (!data.IsEmpty && data[0] == ' ')
                {
                    data = data[1..];
                }
                if (state.Pending.WrittenCount > 0)
                {
                    state.Pending.Write("\n"u8);
                }
                state.Pending.Write(data);
            }
            else if (line[0] == ':')
            {
                // Keep-alive comments keep idle client connections open through proxies: pass them on.
                Write(writer, line, EventEnd, []);
            }
            // event:, id: and retry: lines carry nothing an OpenAI-style stream needs.
        }
        buffer = buffer.Slice(reader.Position);
        return false;
    }

    private static void Dispatch(ReadOnlySpan<byte> payload, PipeWriter writer, StreamState state, Exchange x)
    {
        if (state.Pii is { } pii && !payload.StartsWith("{\"error\""u8))
        {
            payload = pii.Rewrite(payload);
        }
        if (x.UpstreamId is null)
        {
            x.UpstreamId = ReadId(payload);
        }
        if (x.TimeToFirstTokenMs is null && HasGeneratedText(payload))
        {
            x.MarkFirstToken();
        }
        if (payload.StartsWith("{\"error\""u8))
        {
            state.UpstreamError = "the upstream sent an error event mid-stream";
            // The vendor's words go on to the client, never its key (some vendors quote a key in their errors).
            var text = System.Text.Encoding.UTF8.GetString(payload);
            var clean = x.Deployment is { } d ? UpstreamFailure.WithoutSecrets(d.Provider, text) : text;
            Write(writer, DataPrefix, System.Text.Encoding.UTF8.GetBytes(clean), EventEnd);
            return;
        }
        if (HasUsageObject(payload))
        {
            bool usageOnly, topLevelUsage;
            var reader = new Utf8JsonReader(payload);
            using (var doc = JsonDocument.ParseValue(ref reader))
            {
                var root = doc.RootElement;
                if (UsageFigures.TryRead(root, out var figures))
                {
                    state.Usage = figures;
                }
                usageOnly = root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() == 0;
                topLevelUsage = root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object;
            }
            if (usageOnly && !state.ClientWantsUsage)
            {
                return; // requested by the gateway for metering, not by the client
            }
            // Only the chunk that carries the usage the client asked for is rewritten (once per stream), to add the cost.
            if (topLevelUsage && x.Deployment is { } d && state.Usage is { } u && JsonNode.Parse(payload) is JsonObject node)
            {
                node["usage"]!.AsObject()["cost"] = new JsonObject
                {
                    ["amount"] = Cost.Of(d.PriceAt(x.StartedAt), u.Input, u.Cached, u.Output, u.Reasoning),
                    ["currency"] = d.PriceAt(x.StartedAt).Currency.ToString(),
                };
                Write(writer, DataPrefix, JsonSerializer.SerializeToUtf8Bytes(node, WireJson.Serializer), EventEnd);
                return;
            }
        }
        else if (state.Usage is null)
        {
            state.Keep(payload);
        }
        if (!state.ClientWantsUsage && payload.EndsWith(NullUsage))
        {
            // Present only because the gateway asked for usage; a client that did not ask never sees it.
            Write(writer, DataPrefix, payload[..^NullUsage.Length], "}\n\n"u8);
            return;
        }
        Write(writer, DataPrefix, payload, EventEnd);
    }

    private static ReadOnlySpan<byte> NullUsage => ",\"usage\":null}"u8;

    private static bool HasUsageObject(ReadOnlySpan<byte> payload)
    {
        var rest = payload;
        int at;
        while ((at = rest.IndexOf("\"usage\":"u8)) >= 0)
        {
            rest = rest[(at + 8)..].TrimStart(" \t\r\n"u8);
            if (!rest.IsEmpty && rest[0] == '{')
            {
                return true;
            }
        }
        return false;
    }

    private static bool HasGeneratedText(ReadOnlySpan<byte> payload) =>
        NonEmptyString(payload, "\"content\":\""u8) || NonEmptyString(payload, "\"arguments\":\""u8) ||
        NonEmptyString(payload, "\"reasoning_content\":\""u8);

    private static bool NonEmptyString(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> key)
    {
        var at = payload.IndexOf(key);
        return at >= 0 && at + key.Length < payload.Length && payload[at + key.Length] != '"';
    }

    private static string? ReadId(ReadOnlySpan<byte> payload)
    {
        var at = payload.IndexOf("\"id\":\""u8);
        if (at < 0)
        {
            return null;
        }
        var rest = payload[(at + 6)..];
        var end = rest.IndexOf((byte)'"');
        return end is > 0 and <= 200 ? System.Text.Encoding.UTF8.GetString(rest[..end]) : null;
    }

    private static void Write(PipeWriter writer, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c)
    {
        var span = writer.GetSpan(a.Length + b.Length + c.Length);
        a.CopyTo(span);
        b.CopyTo(span[a.Length..]);
        c.CopyTo(span[(a.Length + b.Length)..]);
        writer.Advance(a.Length + b.Length + c.Length);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: stream from provider {Provider} failed: {Reason}")]
    private static partial void LogMidStream(ILogger logger, string requestId, string provider, string reason);
}
