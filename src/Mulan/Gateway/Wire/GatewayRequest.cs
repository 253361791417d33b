using System.Buffers;
using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.Gateway.Wire;

/// <summary>The <c>/v1</c> operations. Speech and OCR ones go through <c>Speech.MediaGateway</c>, the others through <c>GatewayProxy</c>.</summary>
public enum GatewayEndpoint { ChatCompletions, Embeddings, AudioTranscriptions, AudioSpeech, Ocr }

/// <summary>A parsed and checked <c>/v1</c> request body, ready to be rewritten for one deployment.</summary>
public sealed class GatewayRequest
{
    // Body keys some gateways obey to redirect a call (and its credentials). Mulan never does; a body that
    // carries one is refused so that nobody believes it took effect. Compared after dropping '_' and '-'.
    private static readonly FrozenSet<string> UpstreamOverrideKeys = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "apibase", "baseurl", "apiurl", "apikey", "apiversion", "customllmprovider", "apihost", "endpointurl", "azureendpoint");

    private static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = false };
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    private GatewayRequest(GatewayEndpoint endpoint, JsonObject body, string model, bool stream, bool clientWantsUsage)
    {
        Endpoint = endpoint;
        Body = body;
        Model = model;
        Stream = stream;
        ClientWantsUsage = clientWantsUsage;
    }

    public GatewayEndpoint Endpoint { get; }
    public JsonObject Body { get; }
    public string Model { get; }
    public bool Stream { get; }
    /// <summary>Whether the client itself asked for <c>stream_options.include_usage</c>.</summary>
    public bool ClientWantsUsage { get; }

    public static GatewayRequest Parse(GatewayEndpoint endpoint, ReadOnlySequence<byte> bytes, out OpenAIError? error)
    {
        error = null;
        JsonNode? node;
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = DocumentOptions.MaxDepth });
            node = JsonNode.Parse(ref reader, NodeOptions);
        }
        catch (JsonException e)
        {
            error = OpenAIError.BadRequest($"We could not parse the JSON body of your request: {e.Message}", code: "invalid_json");
            return null!;
        }
        if (node is not JsonObject body)
        {
            error = OpenAIError.BadRequest("The request body must be a JSON object.", code: "invalid_json");
            return null!;
        }
        if (body["model"] is not JsonValue mv || !mv.TryGetValue<string>(out var model) || string.IsNullOrWhiteSpace(model))
        {
            error = OpenAIError.BadRequest("You must provide a model parameter (a string).", "model", "missing_model");
            return null!;
        }
        if (FindOverride(body) is { } smuggled)
        {
            error = OpenAIError.BadRequest(
                $"'{smuggled}' is not accepted: the upstream of a model is set by the gateway's configuration, never by the request.",
                smuggled, "unsupported_parameter");
            return null!;
        }
        var stream = false;
        var wantsUsage = false;
        if (endpoint == GatewayEndpoint.ChatCompletions)
        {
            if (body["messages"] is not JsonArray { Count: > 0 } messages || messages.Any(m => m is not JsonObject))
            {
                error = OpenAIError.BadRequest("'messages' must be a non-empty array of message objects.", "messages");
                return null!;
            }
            switch (body["stream"])
            {
                case null:
                    break;
                case JsonValue sv when sv.TryGetValue<bool>(out var s):
                    stream = s;
                    break;
                default:
                    error = OpenAIError.BadRequest("'stream' must be a boolean.", "stream");
                    return null!;
            }
            switch (body["stream_options"])
            {
                case null:
                    break;
                case JsonObject so:
                    wantsUsage = so["include_usage"] is JsonValue iu && iu.TryGetValue<bool>(out var b) && b;
                    break;
                default:
                    error = OpenAIError.BadRequest("'stream_options' must be an object.", "stream_options");
                    return null!;
            }
        }
        else if (body["input"] is null or JsonArray { Count: 0 } || body["input"] is JsonObject)
        {
            error = OpenAIError.BadRequest("'input' must be a string or a non-empty array.", "input");
            return null!;
        }
        if (NumericParameters.Check(endpoint, body) is { } outOfRange)
        {
            error = outOfRange;
            return null!;
        }
        return new GatewayRequest(endpoint, body, model, stream, wantsUsage);
    }

    /// <summary>The same request with another body (the PII guard's masked copy).</summary>
    public GatewayRequest WithBody(JsonObject body) => new(Endpoint, body, Model, Stream, ClientWantsUsage);

    /// <summary>The body for one deployment: the vendor's model name, and usage always requested for streams
    /// (the gateway meters from it and drops the extra chunk if the client did not ask).</summary>
    public byte[] RewriteFor(string vendorModel)
    {
        Body["model"] = vendorModel;
        if (Stream)
        {
            if (Body["stream_options"] is JsonObject so)
            {
                so["include_usage"] = true;
            }
            else
            {
                Body["stream_options"] = new JsonObject { ["include_usage"] = true };
            }
        }
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer, WireJson.Writer))
        {
            Body.WriteTo(w);
        }
        var result = buffer.WrittenSpan.ToArray();
        Body["model"] = Model;
        return result;
    }

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> OverrideLookup =
        UpstreamOverrideKeys.GetAlternateLookup<ReadOnlySpan<char>>();

    // Runs for every key of every request: no allocation, and most names are rejected by length alone.
    private static bool IsOverrideKey(string name)
    {
        if (name.Length is < 6 or > 24)
        {
            return false;
        }
        Span<char> folded = stackalloc char[24];
        var n = 0;
        foreach (var c in name)
        {
            if (c is not ('_' or '-'))
            {
                folded[n++] = c;
            }
        }
        return OverrideLookup.Contains(folded[..n]);
    }

    // Walks every object key except inside schemas, where arbitrary property names are the user's data.
    private static string? FindOverride(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                {
                    if (IsOverrideKey(name))
                    {
                        return name;
                    }
                    if (name is "parameters" or "schema" or "json_schema" or "input_schema" or "properties")
                    {
                        continue;
                    }
                    if (FindOverride(child) is { } found)
                    {
                        return found;
                    }
                }
                return null;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (FindOverride(item) is { } found)
                    {
                        return found;
                    }
                }
                return null;
            default:
                return null;
        }
    }
}
