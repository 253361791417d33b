namespace Mulan.Apps;

/// <summary>An app's instructions with its variables filled in.</summary>
public static class AppPrompt
{
    /// <summary>Variables every app may use without declaring them.</summary>
    public static readonly IReadOnlySet<string> BuiltInVariables = new HashSet<string>(StringComparer.Ordinal) { "date", "app_name" };

    /// <summary>Replaces <c>{{name}}</c> by the given value, else the declared default, else the built-in value, else "".</summary>
    public static string Fill(AppDefinition app, IReadOnlyDictionary<string, string>? inputs, DateTimeOffset now)
    {
        var text = app.Instructions ?? "";
        if (text.Length == 0)
        {
            return text;
        }
        return AppDefinitionReader.VariableReference().Replace(text, m =>
        {
            var name = m.Groups[1].Value;
            if (inputs is not null && inputs.TryGetValue(name, out var given))
            {
                return given;
            }
            if (app.Variables?.FirstOrDefault(v => v.Name == name) is { Default: { } d })
            {
                return d;
            }
            return name switch
            {
                "date" => now.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                "app_name" => app.Name,
                _ => "",
            };
        });
    }
}
