using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

public sealed partial class KeysCreateCommand : AsyncCommand<KeysCreateCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandOption("--name <NAME>")]
        [Description("A name for the key (required).")]
        public string? Name { get; init; }

        [CommandOption("--workspace <WORKSPACE>")]
        [Description("Workspace id or name. Default: the 'default' workspace.")]
        public string? Workspace { get; init; }

        [CommandOption("--models <MODELS>")]
        [Description("Comma-separated models the key may use. Default: all.")]
        public string? Models { get; init; }

        [CommandOption("--budget <BUDGET>")]
        [Description("Spending limit such as 10USD/month, 500CNY/day or 20USD/total.")]
        public string? Budget { get; init; }

        [CommandOption("--rpm <N>")]
        [Description("Requests per minute.")]
        public int? Rpm { get; init; }

        [CommandOption("--tpm <N>")]
        [Description("Tokens per minute.")]
        public int? Tpm { get; init; }

        [CommandOption("--expires <WHEN>")]
        [Description("Expiry as an ISO 8601 date/time, or a duration such as 30d or 12h.")]
        public string? Expires { get; init; }

        [CommandOption("-q|--quiet")]
        [Description("Print only the key, for scripts: export MULAN_KEY=$(mulan keys create --name app --quiet).")]
        public bool Quiet { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Name))
            {
                return ValidationResult.Error("--name: required");
            }
            if (Budget is not null && !TryParseBudget(Budget, out _))
            {
                return ValidationResult.Error($"--budget: '{Budget}' is not like 10USD/month (currency CNY or USD; period day, month or total)");
            }
            return ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        TryParseBudget(s.Budget, out var budget);
        using var api = new MulanApiClient(s);
        var created = await api.PostAsync("api/keys", new
        {
            name = s.Name,
            workspace = s.Workspace,
            models = s.Models?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            budget,
            rpm = s.Rpm,
            tpm = s.Tpm,
            expiresAt = ParseExpiry(s.Expires),
        }, ct);
        if (s.Json)
        {
            Console.WriteLine(created.ToJsonString());
            return 0;
        }
        if (s.Quiet)
        {
            Console.WriteLine(created["key"]!.GetValue<string>());
            return 0;
        }
        AnsiConsole.MarkupLine($"Created key [bold]{Markup.Escape(created["name"]!.GetValue<string>())}[/] ({created["id"]}).");
        AnsiConsole.MarkupLine("The key is shown only now; store it safely:");
        Console.WriteLine();
        Console.WriteLine("    " + created["key"]!.GetValue<string>());
        Console.WriteLine();
        return 0;
    }

    internal static bool TryParseBudget(string? text, out object? budget)
    {
        budget = null;
        if (text is null)
        {
            return true;
        }
        var m = BudgetPattern().Match(text.Trim());
        if (!m.Success || !decimal.TryParse(m.Groups[1].Value, NumberStyles.Number, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
        {
            return false;
        }
        budget = new { amount, currency = m.Groups[2].Value.ToUpperInvariant(), period = m.Groups[3].Value.ToLowerInvariant() };
        return true;
    }

    private static DateTimeOffset? ParseExpiry(string? text)
    {
        if (text is null)
        {
            return null;
        }
        var m = DurationPattern().Match(text.Trim());
        if (m.Success)
        {
            var n = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            return DateTimeOffset.UtcNow + (m.Groups[2].Value == "d" ? TimeSpan.FromDays(n) : TimeSpan.FromHours(n));
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw new CliUserException($"--expires: '{text}' is neither an ISO 8601 date nor a duration like 30d");
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*(CNY|USD)\s*/\s*(day|month|total)$", RegexOptions.IgnoreCase)]
    private static partial Regex BudgetPattern();

    [GeneratedRegex(@"^(\d{1,5})([dh])$")]
    private static partial Regex DurationPattern();
}

public sealed class KeysListCommand : AsyncCommand<KeysListCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandOption("--workspace <WORKSPACE>")]
        public string? Workspace { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var page = await api.GetAsync(s.Workspace is null ? "api/keys" : $"api/keys?workspace={Uri.EscapeDataString(s.Workspace)}", ct);
        if (s.Json)
        {
            Console.WriteLine(page.ToJsonString());
            return 0;
        }
        var table = new Table().AddColumns("id", "name", "prefix", "workspace", "models", "expires", "state");
        foreach (var k in page["keys"]!.AsArray().OfType<JsonObject>())
        {
            table.AddRow(JsonTables.Cell(k["id"]), JsonTables.Cell(k["name"]), JsonTables.Cell(k["prefix"]), JsonTables.Cell(k["workspace"]),
                k["models"] is JsonArray models ? Markup.Escape(string.Join(",", models)) : "all",
                JsonTables.Cell(k["expiresAt"]), k["revokedAt"] is null ? "[green]active[/]" : "[red]revoked[/]");
        }
        AnsiConsole.Write(table);
        return 0;
    }
}

public sealed class KeysRevokeCommand : AsyncCommand<KeysRevokeCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<ID>")]
        [Description("The key's id (key_...).")]
        public string Id { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        await api.DeleteAsync($"api/keys/{Uri.EscapeDataString(s.Id)}", ct);
        Console.WriteLine(s.Json ? new JsonObject { ["id"] = s.Id, ["revoked"] = true }.ToJsonString() : $"Revoked {s.Id}.");
        return 0;
    }
}
