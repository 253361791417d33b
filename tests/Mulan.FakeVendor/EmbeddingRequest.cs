using System.Text.Json;

namespace Mulan.FakeVendor;

/// <summary>
/// An embeddings request. <c>input</c> may be a string, an array of strings, or (as OpenAI also
/// accepts) an array of token ids or an array of such arrays.
/// </summary>
internal sealed record EmbeddingRequest(string Model, IReadOnlyList<EmbeddingInput> Inputs, int Dimensions, bool Base64)
{
    public const int DefaultDimensions = 16;
    private const int MaxDimensions = 4096;
    private const int MaxInputs = 2048;

    public int PromptTokens => Inputs.Sum(i => i.Tokens);

    public static bool TryParse(ReadOnlyMemory<byte> body, out EmbeddingRequest request, out string error)
    {
        request = new EmbeddingRequest("", [], DefaultDimensions, false);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "The request body must be a JSON object.";
                return false;
            }

            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String)
            {
                error = "you must provide a model parameter";
                return false;
            }

            request = request with { Model = model.GetString()! };
            if (!root.TryGetProperty("input", out var input) || !TryReadInputs(input, out var inputs))
            {
                error = "'input' must be a non-empty string, array of strings, or array of token arrays.";
                return false;
            }

            var dimensions = DefaultDimensions;
            if (root.TryGetProperty("dimensions", out var dims) && dims.ValueKind != JsonValueKind.Null
                && (!dims.TryGetInt32(out dimensions) || dimensions < 1 || dimensions > MaxDimensions))
            {
                error = $"'dimensions' must be an integer between 1 and {MaxDimensions}.";
                return false;
            }

            var base64 = false;
            if (root.TryGetProperty("encoding_format", out var format) && format.ValueKind != JsonValueKind.Null)
            {
                base64 = format.ValueEquals("base64");
                if (!base64 && !format.ValueEquals("float"))
                {
                    error = "'encoding_format' must be 'float' or 'base64'.";
                    return false;
                }
            }

            request = request with { Inputs = inputs, Dimensions = dimensions, Base64 = base64 };
            error = "";
            return true;
        }
        catch (JsonException)
        {
            error = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)";
            return false;
        }
    }

    private static bool TryReadInputs(JsonElement input, out List<EmbeddingInput> inputs)
    {
        inputs = [];
        if (input.ValueKind == JsonValueKind.String)
        {
            inputs.Add(EmbeddingInput.FromText(input.GetString()!));
            return true;
        }

        if (input.ValueKind != JsonValueKind.Array || input.GetArrayLength() is 0 or > MaxInputs)
        {
            return false;
        }

        // A flat array of numbers is one tokenized input, not many.
        if (input[0].ValueKind == JsonValueKind.Number)
        {
            return TryReadIds(input, out var ids) && Add(inputs, EmbeddingInput.FromIds(ids));
        }

        foreach (var item in input.EnumerateArray())
        {
            var ok = item.ValueKind switch
            {
                JsonValueKind.String => Add(inputs, EmbeddingInput.FromText(item.GetString()!)),
                JsonValueKind.Array => TryReadIds(item, out var ids) && Add(inputs, EmbeddingInput.FromIds(ids)),
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryReadIds(JsonElement array, out int[] ids)
    {
        ids = new int[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (!item.TryGetInt32(out ids[i++]))
            {
                return false;
            }
        }

        return ids.Length > 0;
    }

    private static bool Add(List<EmbeddingInput> inputs, EmbeddingInput input)
    {
        inputs.Add(input);
        return true;
    }
}

/// <summary>One input: its token count and the seed of its vector (same input, same vector).</summary>
internal readonly record struct EmbeddingInput(int Tokens, ulong Seed)
{
    public static EmbeddingInput FromText(string text) =>
        new(O200k.Count(text), EmbeddingVectors.Seed(System.Text.Encoding.UTF8.GetBytes(text)));

    public static EmbeddingInput FromIds(int[] ids) =>
        new(ids.Length, EmbeddingVectors.Seed(System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan())));
}
