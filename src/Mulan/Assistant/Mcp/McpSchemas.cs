using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace Mulan.Assistant.Mcp;

/// <summary>Tool declarations and results in the SDK's protocol types.</summary>
public static class McpSchemas
{
    // The shapes of the /api views, as the /api writes them.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <param name="properties">the JSON Schema properties object, as JSON text.</param>
    public static Tool Tool(string name, string description, string properties, IReadOnlyList<string> required)
    {
        using var props = JsonDocument.Parse(properties);
        var schema = new Dictionary<string, object>
        {
            ["type"] = "object",
            ["properties"] = props.RootElement.Clone(),
            ["required"] = required,
            ["additionalProperties"] = false,
        };
        return new Tool { Name = name, Description = description, InputSchema = JsonSerializer.SerializeToElement(schema, Json) };
    }

    /// <summary>A result as text for the model and as structured content for programs.</summary>
    public static CallToolResult Result(string text, object structured) => new()
    {
        Content = [new TextContentBlock { Text = text }],
        StructuredContent = JsonSerializer.SerializeToElement(structured, structured.GetType(), Json),
    };

    /// <summary>A tool error: the call was understood but not carried out; the agent reads why and may try again.</summary>
    public static CallToolResult Error(string message) => new()
    {
        Content = [new TextContentBlock { Text = message }],
        IsError = true,
    };
}
