using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mulan.Tests.Telemetry;

/// <summary>An OTLP/HTTP trace receiver on loopback: keeps each export's protobuf body and decodes the spans in it
/// (the few fields of opentelemetry/proto/trace/v1 the tests read, by the protobuf wire format).</summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<byte[]> _bodies = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    public Uri TracesUrl { get; private set; } = null!;

    /// <summary>Every export body as received (to search for text that must never be exported).</summary>
    public IReadOnlyList<byte[]> Bodies => [.. _bodies];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpContext ctx) =>
        {
            using var buffer = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(buffer);
            receiver._bodies.Enqueue(buffer.ToArray());
            ctx.Response.ContentType = "application/x-protobuf";
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.TracesUrl = new Uri(address.TrimEnd('/') + "/v1/traces");
        return receiver;
    }

    public IReadOnlyList<OtlpSpan> Spans()
    {
        var spans = new List<OtlpSpan>();
        foreach (var body in _bodies)
        {
            foreach (var resourceSpans in Repeated(body, 1))
            {
                foreach (var scopeSpans in Repeated(resourceSpans, 2))
                {
                    foreach (var span in Repeated(scopeSpans, 2))
                    {
                        spans.Add(OtlpSpan.Decode(span));
                    }
                }
            }
        }
        return spans;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    internal static IEnumerable<byte[]> Repeated(byte[] message, int field) =>
        Fields(message).Where(f => f.Field == field && f.Bytes is not null).Select(f => f.Bytes!);

    /// <summary>The fields of one message: varints as <c>Value</c>, length-delimited fields as <c>Bytes</c>, fixed64 as <c>Value</c> (raw bits).</summary>
    internal static IEnumerable<(int Field, ulong Value, byte[]? Bytes)> Fields(byte[] m)
    {
        var i = 0;
        while (i < m.Length)
        {
            var tag = Varint(m, ref i);
            var field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    yield return (field, Varint(m, ref i), null);
                    break;
                case 1:
                    yield return (field, BitConverter.ToUInt64(m, i), null);
                    i += 8;
                    break;
                case 2:
                    var length = (int)Varint(m, ref i);
                    yield return (field, 0, m[i..(i + length)]);
                    i += length;
                    break;
                case 5:
                    yield return (field, BitConverter.ToUInt32(m, i), null);
                    i += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {tag & 7} at {i}");
            }
        }
    }

    private static ulong Varint(byte[] m, ref int i)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = m[i++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}

/// <param name="Kind">1 internal, 2 server, 3 client.</param>
/// <param name="StatusCode">0 unset, 1 ok, 2 error.</param>
public sealed record OtlpSpan(string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, IReadOnlyDictionary<string, object> Attributes, int StatusCode)
{
    public string? Text(string key) => Attributes.TryGetValue(key, out var v) ? v.ToString() : null;

    public static OtlpSpan Decode(byte[] span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var kind = 0;
        var status = 0;
        var attributes = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (field, value, bytes) in OtlpReceiver.Fields(span))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexString(bytes!); break;
                case 2: spanId = Convert.ToHexString(bytes!); break;
                case 4: parent = Convert.ToHexString(bytes!); break;
                case 5: name = Encoding.UTF8.GetString(bytes!); break;
                case 6: kind = (int)value; break;
                case 9:
                    var (k, v) = KeyValue(bytes!);
                    attributes[k] = v;
                    break;
                case 15:
                    status = (int)OtlpReceiver.Fields(bytes!).Where(f => f.Field == 3).Select(f => f.Value).FirstOrDefault();
                    break;
            }
        }
        return new OtlpSpan(traceId, spanId, parent, name, kind, attributes, status);
    }

    private static (string, object) KeyValue(byte[] kv)
    {
        var key = "";
        object value = "";
        foreach (var (field, _, bytes) in OtlpReceiver.Fields(kv))
        {
            if (field == 1)
            {
                key = Encoding.UTF8.GetString(bytes!);
            }
            else if (field == 2)
            {
                foreach (var (f, v, b) in OtlpReceiver.Fields(bytes!))
                {
                    value = f switch
                    {
                        1 => Encoding.UTF8.GetString(b!),
                        2 => v != 0,
                        3 => (long)v,
                        4 => BitConverter.Int64BitsToDouble((long)v),
                        _ => value,
                    };
                }
            }
        }
        return (key, value);
    }
}
