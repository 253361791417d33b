using System.Text.Json;

namespace Mulan.Assistant.Mcp;

/// <summary>A tool's arguments were missing, of the wrong type or too long; the message tells the calling agent which.</summary>
public sealed class McpToolInputException(string message) : Exception(message);

/// <summary>
/// The arguments of one tool call, read by name against the tool's schema. The SDK passes them on unchecked, so every
/// rule of the schema (required, type, length, range, no other names) is enforced here.
/// </summary>
public sealed class McpArguments
{
    private readonly IDictionary<string, JsonElement> _values;

    public McpArguments(IDictionary<string, JsonElement>? values, params string[] known)
    {
        _values = values ?? new Dictionary<string, JsonElement>();
        if (_values.Keys.FirstOrDefault(k => !known.Contains(k, StringComparer.Ordinal)) is { } unknown)
        {
            throw new McpToolInputException(known.Length == 0 ? $"Unknown argument '{Cut(unknown)}'; this tool takes no arguments."
                : $"Unknown argument '{Cut(unknown)}'; this tool takes {string.Join(", ", known)}.");
        }
    }

    public string Text(string name, int maxLength) =>
        OptionalText(name, maxLength) ?? throw new McpToolInputException($"'{name}' is required: a non-empty string of at most {maxLength} characters.");

    public string? OptionalText(string name, int maxLength)
    {
        if (!_values.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String || value.GetString()!.Trim() is not { Length: > 0 } text)
        {
            throw new McpToolInputException($"'{name}' must be a non-empty string.");
        }
        if (text.Length > maxLength)
        {
            throw new McpToolInputException($"'{name}' may hold at most {maxLength} characters (it has {text.Length}).");
        }
        return text;
    }

    public int? OptionalInteger(string name, int min, int max)
    {
        if (!_values.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n) || n < min || n > max)
        {
            throw new McpToolInputException($"'{name}' must be a whole number from {min} to {max}.");
        }
        return n;
    }

    private static string Cut(string name) => name.Length > 40 ? name[..40] + "…" : name;
}
