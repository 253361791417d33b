using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mulan.Gateway;
using Mulan.Gateway.Catalog;
using Mulan.Governance;
using Mulan.Knowledge;
using Mulan.Storage;

namespace Mulan.Hosting;

/// <summary>
/// Checks a <c>--config</c> file against the shapes it may hold, so that a misspelt key fails the start with its
/// JSON path (and the nearest known name) instead of being silently ignored. The shapes are the types the file is
/// read into: the catalog file's own properties and each options section, walked by reflection, so a new setting
/// is known here as soon as it exists.
/// </summary>
public static class ConfigFileSchema
{
    /// <summary>The option sections a configuration file may carry, by name (matched case-insensitively, as the
    /// configuration binder does). <c>null</c>: free-form (ASP.NET Core's own logging settings).</summary>
    private static readonly Dictionary<string, Type?> Sections = new(StringComparer.OrdinalIgnoreCase)
    {
        [GatewayOptions.Section] = typeof(GatewayOptions),
        [StorageOptions.Section] = typeof(StorageOptions),
        [KnowledgeOptions.Section] = typeof(KnowledgeOptions),
        [GovernanceOptions.Section] = typeof(GovernanceOptions),
        [Outbound.OutboundOptions.Section] = typeof(Outbound.OutboundOptions),
        [Assistant.AssistantOptions.Section] = typeof(Assistant.AssistantOptions),
        [Pilots.PilotOptions.Section] = typeof(Pilots.PilotOptions),
        [Speech.SpeechOptions.Section] = typeof(Speech.SpeechOptions),
        [People.PeopleOptions.Section] = typeof(People.PeopleOptions),
        [Console.Chat.ChatPageOptions.Section] = typeof(Console.Chat.ChatPageOptions),
        [Telemetry.TelemetryOptions.Section] = typeof(Telemetry.TelemetryOptions),
        ["Logging"] = null,
        ["$schema"] = null,
    };

    /// <summary>The option sections known here (a test checks every options type with a <c>Section</c> is among them).</summary>
    public static IEnumerable<Type> SectionTypes => Sections.Values.OfType<Type>();

    /// <summary>The problems of a file's shape; none when the file is missing or not JSON (reading it says so, with
    /// the line).</summary>
    public static IReadOnlyList<string> CheckFile(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path),
                new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return Check(document.RootElement);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Every problem found, each starting with the JSON path of the offending key.</summary>
    public static IReadOnlyList<string> Check(JsonElement root)
    {
        var errors = new List<string>();
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add("(root): must be a JSON object with providers, models and option sections");
            return errors;
        }
        var top = TopLevel();
        foreach (var property in root.EnumerateObject())
        {
            if (top.TryGetValue(property.Name, out var type))
            {
                if (type is not null)
                {
                    Walk(property.Value, type, property.Name, errors);
                }
            }
            else
            {
                errors.Add(Unknown(property.Name, property.Name, top.Keys));
            }
        }
        return errors;
    }

    private static Dictionary<string, Type?> TopLevel()
    {
        var top = new Dictionary<string, Type?>(Sections, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, type) in Members(typeof(CatalogFile)))
        {
            top[name] = type;
        }
        return top;
    }

    private static void Walk(JsonElement value, Type type, string path, List<string> errors)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (value.ValueKind == JsonValueKind.Null || IsFree(type))
        {
            return;
        }
        if (IsLeaf(type))
        {
            if (value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
            {
                errors.Add($"{path}: must be {Describe(type)}, not {(value.ValueKind == JsonValueKind.Object ? "an object" : "a list")}");
            }
            return;
        }
        if (DictionaryValue(type) is { } valueType)
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"{path}: must be an object of names to values");
                return;
            }
            foreach (var p in value.EnumerateObject())
            {
                Walk(p.Value, valueType, $"{path}.{p.Name}", errors);
            }
            return;
        }
        if (ListItem(type) is { } itemType)
        {
            if (value.ValueKind != JsonValueKind.Array)
            {
                errors.Add($"{path}: must be a list [...]");
                return;
            }
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                Walk(item, itemType, $"{path}[{i++}]", errors);
            }
            return;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path}: must be an object {{...}}");
            return;
        }
        var members = Members(type);
        foreach (var p in value.EnumerateObject())
        {
            if (members.TryGetValue(p.Name, out var memberType))
            {
                Walk(p.Value, memberType, $"{path}.{p.Name}", errors);
            }
            else
            {
                errors.Add(Unknown($"{path}.{p.Name}", p.Name, members.Keys));
            }
        }
    }

    /// <summary>The settable public properties of a settings type, by JSON name (case-insensitive).</summary>
    private static Dictionary<string, Type> Members(Type type)
    {
        var members = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0 || p.IsDefined(typeof(JsonExtensionDataAttribute)) || p.IsDefined(typeof(JsonIgnoreAttribute)))
            {
                continue;
            }
            // Read-only properties are derived (e.g. a path computed from the data folder), not settings; collections
            // and nested settings objects are filled in place by the binder, so they count when they have a getter.
            if (p.SetMethod is { IsPublic: true } || !IsLeaf(p.PropertyType))
            {
                members[p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(p.Name)] = p.PropertyType;
            }
        }
        return members;
    }

    private static bool IsFree(Type type) => type == typeof(object) || type == typeof(JsonElement) || typeof(System.Text.Json.Nodes.JsonNode).IsAssignableFrom(type);

    private static bool IsLeaf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(DateTimeOffset)
            || type == typeof(DateTime) || type == typeof(TimeSpan) || type == typeof(Uri) || type == typeof(Guid);
    }

    private static string Describe(Type type) =>
        type == typeof(string) || type == typeof(Uri) ? "a string"
        : type == typeof(bool) ? "true or false"
        : type.IsEnum ? "one of " + string.Join(", ", Enum.GetNames(type))
        : type == typeof(DateTimeOffset) || type == typeof(DateTime) ? "a date"
        : "a number";

    private static Type? DictionaryValue(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(Dictionary<,>) || d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>))
            ? type.GetGenericArguments()[1]
            : null;

    private static Type? ListItem(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments()[0]
        : null;

    private static string Unknown(string path, string name, IEnumerable<string> known)
    {
        var nearest = known.Select(k => (Name: k, Distance: Distance(name.ToLowerInvariant(), k.ToLowerInvariant())))
            .Where(k => k.Distance <= Math.Max(2, k.Name.Length / 3))
            .OrderBy(k => k.Distance).ThenBy(k => k.Name, StringComparer.Ordinal)
            .Select(k => k.Name).FirstOrDefault();
        return nearest is null
            ? $"{path}: unknown setting (known here: {string.Join(", ", known.Order(StringComparer.Ordinal))})"
            : $"{path}: unknown setting; did you mean '{nearest}'?";
    }

    /// <summary>Levenshtein distance with adjacent transpositions (a common typo).</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
