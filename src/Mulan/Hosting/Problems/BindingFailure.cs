using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Mulan.Hosting.Problems;

/// <summary>
/// What model binding could not read, as a field name and a message: a JSON body value of the wrong type or out of its
/// type's range (the JSON path names the field), or a query or route value that does not parse (the parameter's name).
/// ASP.NET Core says this only in its exception text; this turns it into the validation problem every other bad field gets.
/// </summary>
public static partial class BindingFailure
{
    public sealed record Field(string Name, string Message);

    /// <param name="bodyType">the endpoint's JSON body type, to name the type a field must have.</param>
    public static Field? Of(BadHttpRequestException bad, Type? bodyType)
    {
        // Only a value that does not fit its field; malformed JSON (a syntax error at some path) is not a field's fault.
        if (bad.InnerException is JsonException { Path: { Length: > 1 } path } json && path.StartsWith("$.", StringComparison.Ordinal)
            && json.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            var name = path[2..];
            var type = bodyType is null ? null : TypeAt(bodyType, name);
            return new Field(name, type is null ? $"is not valid here ({FirstSentence(json.Message)})" : $"must be {Describe(type)}");
        }
        var parameter = BindParameter().Match(bad.Message);
        if (parameter.Success)
        {
            return new Field(parameter.Groups["name"].Value, $"must be {Describe(parameter.Groups["type"].Value)} (got '{parameter.Groups["value"].Value}')");
        }
        return null;
    }

    // Follows a JSON path such as "deployments[0].price.input" through the body type's properties (names as JSON
    // has them, case-insensitive, as the web serializer reads them).
    private static Type? TypeAt(Type root, string path)
    {
        var type = root;
        foreach (var segment in path.Split('.'))
        {
            var bracket = segment.IndexOf('[', StringComparison.Ordinal);
            var name = bracket >= 0 ? segment[..bracket] : segment;
            var property = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                return null;
            }
            type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            for (var i = bracket; i >= 0 && i < segment.Length; i = segment.IndexOf('[', i + 1))
            {
                type = ElementType(type);
                if (type is null)
                {
                    return null;
                }
            }
        }
        return type;
    }

    private static Type? ElementType(Type type) => type.IsArray ? type.GetElementType()
        : type.IsGenericType && type.GetGenericArguments() is [var element] ? element : null;

    private static string Describe(Type type) => Describe((Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(int) => "Int32",
        var t when t == typeof(long) => "Int64",
        var t when t == typeof(decimal) || t == typeof(double) || t == typeof(float) => "Decimal",
        var t when t == typeof(bool) => "Boolean",
        var t when t == typeof(DateTimeOffset) || t == typeof(DateTime) => "DateTimeOffset",
        var t when t == typeof(string) => "String",
        var t when t.IsArray || (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>)) => "List`1",
        var t when t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Dictionary<,>) => "Dictionary",
        _ => "object",
    });

    private static string FirstSentence(string message) => message.IndexOf(". ", StringComparison.Ordinal) is > 0 and var cut ? message[..cut] : message;

    // Nullable<int>, int?, DateTimeOffset? ... → words a user can act on.
    private static string Describe(string clrType)
    {
        var t = clrType.Replace("Nullable<", "", StringComparison.Ordinal).TrimEnd('>', '?').Replace("System.", "", StringComparison.Ordinal);
        return t switch
        {
            "Int32" or "int" => "a whole number (at most 2147483647)",
            "Int64" or "long" => "a whole number",
            "Decimal" or "decimal" or "Double" or "double" or "Single" or "float" => "a number",
            "Boolean" or "bool" => "true or false",
            "DateTimeOffset" or "DateTime" => "an ISO 8601 date or time, such as 2026-01-31 or 2026-01-31T08:00:00Z",
            "String" or "string" => "a string",
            "List`1" => "an array",
            "Dictionary" => "an object of names and values",
            _ => "an object",
        };
    }

    [GeneratedRegex("Failed to bind parameter \"(?<type>.+) (?<name>[^ \"]+)\" from \"(?<value>.*)\"")]
    private static partial Regex BindParameter();
}
