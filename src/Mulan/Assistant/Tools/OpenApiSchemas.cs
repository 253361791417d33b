using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace Mulan.Assistant.Tools;

/// <summary>
/// An OpenAPI schema as the plain JSON Schema a model is given: references resolved (the reader resolves them; a cycle
/// ends at <see cref="MaxDepth"/> as an unconstrained value), and only what helps a model fill in arguments (types,
/// formats, enums, properties, required, items, short descriptions), so a large API does not flood the prompt.
/// </summary>
public static class OpenApiSchemas
{
    public const int MaxDepth = 6;
    private const int MaxDescription = 300;
    private const int MaxProperties = 64;
    private const int MaxEnum = 50;

    public static JsonObject Convert(IOpenApiSchema? schema, int depth = 0)
    {
        var o = new JsonObject();
        if (schema is null || depth > MaxDepth)
        {
            return o;
        }
        if (schema.Type is { } type && Types(type) is { } types)
        {
            o["type"] = types;
        }
        if (schema.Format is { Length: > 0 } format)
        {
            o["format"] = format;
        }
        if (Short(schema.Description ?? schema.Title) is { } description)
        {
            o["description"] = description;
        }
        if (schema.Enum is { Count: > 0 } values)
        {
            o["enum"] = new JsonArray([.. values.Take(MaxEnum).Select(v => v?.DeepClone())]);
        }
        if (schema.Default is { } value)
        {
            o["default"] = value.DeepClone();
        }
        if (schema.Properties is { Count: > 0 } properties)
        {
            var p = new JsonObject();
            foreach (var (name, property) in properties.Take(MaxProperties))
            {
                p[name] = Convert(property, depth + 1);
            }
            o["properties"] = p;
        }
        if (schema.Required is { Count: > 0 } required)
        {
            o["required"] = new JsonArray([.. required.Where(r => schema.Properties?.ContainsKey(r) != false).Select(r => (JsonNode)r)]);
        }
        if (schema.Items is { } items)
        {
            o["items"] = Convert(items, depth + 1);
        }
        if (!schema.AdditionalPropertiesAllowed)
        {
            o["additionalProperties"] = false;
        }
        Compose(o, "allOf", schema.AllOf, depth);
        Compose(o, "oneOf", schema.OneOf, depth);
        Compose(o, "anyOf", schema.AnyOf, depth);
        return o;
    }

    private static void Compose(JsonObject o, string keyword, IList<IOpenApiSchema>? schemas, int depth)
    {
        if (schemas is { Count: > 0 })
        {
            o[keyword] = new JsonArray([.. schemas.Take(16).Select(s => (JsonNode)Convert(s, depth + 1))]);
        }
    }

    /// <summary>The JSON Schema <c>type</c>: one name, or an array when several (e.g. <c>["string","null"]</c>).</summary>
    private static JsonNode? Types(JsonSchemaType type)
    {
        var names = new List<string>();
        foreach (var (flag, name) in new[]
        {
            (JsonSchemaType.String, "string"), (JsonSchemaType.Integer, "integer"), (JsonSchemaType.Number, "number"),
            (JsonSchemaType.Boolean, "boolean"), (JsonSchemaType.Object, "object"), (JsonSchemaType.Array, "array"), (JsonSchemaType.Null, "null"),
        })
        {
            if (type.HasFlag(flag))
            {
                names.Add(name);
            }
        }
        return names.Count switch
        {
            0 => null,
            1 => names[0],
            _ => new JsonArray([.. names.Select(n => (JsonNode)n)]),
        };
    }

    public static string? Short(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var t = text.Trim();
        return t.Length <= MaxDescription ? t : t[..(MaxDescription - 1)] + "…";
    }
}
