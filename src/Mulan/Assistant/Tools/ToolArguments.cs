using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.Assistant.Tools;

/// <summary>
/// Whether a model's arguments fit a tool's schema, to the depth that catches what models get wrong: required properties
/// present, top-level values of the declared type (and enum), no unknown property where the schema forbids them. Deeper
/// checks are the service's: it answers a bad call with a 4xx, which is a failed result the model reads.
/// </summary>
public static class ToolArguments
{
    /// <returns>null when they fit; otherwise what is wrong, for the model and the trace.</returns>
    public static string? Validate(JsonObject schema, JsonObject arguments)
    {
        var problems = new List<string>();
        var properties = schema["properties"] as JsonObject;
        foreach (var name in (schema["required"] as JsonArray ?? []).Select(r => r?.GetValue<string>()).OfType<string>())
        {
            if (!arguments.ContainsKey(name) || arguments[name] is null)
            {
                problems.Add($"'{name}' is required");
            }
        }
        var closed = schema["additionalProperties"] is JsonValue v && v.GetValueKind() == JsonValueKind.False;
        foreach (var (name, value) in arguments)
        {
            if (properties?[name] is not JsonObject property)
            {
                if (closed)
                {
                    problems.Add($"'{name}' is not a parameter of this tool" + (properties is { Count: > 0 } ? $" (it takes {string.Join(", ", properties.Select(p => p.Key))})" : ""));
                }
                continue;
            }
            if (value is not null && property["type"] is { } type && !Fits(type, value))
            {
                problems.Add($"'{name}' must be {Describe(type)}, not {Kind(value)}");
            }
            else if (property["enum"] is JsonArray options && value is not null && !options.Any(o => JsonNode.DeepEquals(o, value)))
            {
                problems.Add($"'{name}' must be one of {string.Join(", ", options.Select(o => o?.ToJsonString()))}");
            }
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    private static bool Fits(JsonNode type, JsonNode value) => type switch
    {
        JsonArray any => any.Any(t => t is not null && Fits(t, value)),
        JsonValue t when t.TryGetValue<string>(out var name) => name switch
        {
            "string" => value.GetValueKind() == JsonValueKind.String,
            // Read from the JSON text: a value built in code (an int) and one parsed (a JsonElement) are judged alike.
            "integer" => value.GetValueKind() == JsonValueKind.Number
                && double.TryParse(value.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d)
                && double.IsFinite(d) && d == Math.Floor(d),
            "number" => value.GetValueKind() == JsonValueKind.Number,
            "boolean" => value.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
            "object" => value is JsonObject,
            "array" => value is JsonArray,
            "null" => false,
            _ => true,
        },
        _ => true,
    };

    private static string Describe(JsonNode type) => type is JsonArray a ? string.Join(" or ", a.Select(t => t?.ToString())) : $"a{(type.ToString() is "integer" or "object" or "array" ? "n" : "")} {type}";

    private static string Kind(JsonNode value) => value.GetValueKind() switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => "null",
    };
}
