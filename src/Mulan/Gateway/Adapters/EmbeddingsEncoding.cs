using System.Buffers.Binary;
using System.Text.Json.Nodes;

namespace Mulan.Gateway.Adapters;

/// <summary>
/// Honours the client's <c>encoding_format</c> for translated embeddings: vendors answer with float arrays, while
/// OpenAI clients (the official SDKs by default) may ask for <c>base64</c>, little-endian float32s.
/// </summary>
public static class EmbeddingsEncoding
{
    /// <summary><see cref="OpenAIShapes.Embeddings"/>, in the encoding the client asked for.</summary>
    public static JsonObject Shape(JsonObject request, string model, IReadOnlyList<float[]> vectors, long promptTokens)
    {
        var body = OpenAIShapes.Embeddings(model, vectors, promptTokens);
        if (OpenAIRequest.String(request["encoding_format"]) != "base64")
        {
            return body;
        }
        var data = body["data"]!.AsArray();
        for (var i = 0; i < vectors.Count; i++)
        {
            var bytes = new byte[vectors[i].Length * 4];
            for (var j = 0; j < vectors[i].Length; j++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(j * 4), vectors[i][j]);
            }
            data[i]!["embedding"] = Convert.ToBase64String(bytes);
        }
        return body;
    }

    /// <summary>An embedding array of numbers as floats; null when it is not one.</summary>
    public static float[]? Vector(JsonNode? node)
    {
        if (node is not JsonArray values)
        {
            return null;
        }
        var vector = new float[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            if (OpenAIRequest.Number(values[i]) is not { } v)
            {
                return null;
            }
            vector[i] = (float)v;
        }
        return vector;
    }
}
