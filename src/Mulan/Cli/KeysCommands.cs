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
            JsonTables.Print(created);
            return 0;
        }
        if (s.Quiet)
        {
            System.Console.WriteLine(created["key"]!.GetValue<string>());
            return 0;
        }
        AnsiConsole.MarkupLine($"Created key [bold]{Markup.Escape(created["name"]!.GetValue<string>())}[/] ({created["id"]}).");
        AnsiConsole.MarkupLine("The key is shown only now; store it safely:");
        System.Console.WriteLine();
        System.Console.WriteLine("    " + created["key"]!.GetValue<string>());
        System.Console.WriteLine();
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

    internal static DateTimeOffset? ParseExpiry(string? text)
    {
        if (text is null)
        {
            return null;
        }
        var m = DurationPattern().Match(text.Trim());
        if (m.Success)
        {
            var n = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            return TimeProvider.System.GetUtcNow() + (m.Groups[2].Value == "d" ? TimeSpan.FromDays(n) : TimeSpan.FromHours(n));
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
        var page = await api.GetAsync(MulanApiClient.WithQuery("api/keys", ("workspace", s.Workspace)), ct);
        if (s.Json)
        {
            JsonTables.Print(page);
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

/// <summary>The <c>ID|NAME</c> argument of the key verbs, and the workspace that scopes it.</summary>
public class KeyTargetSettings : ClientSettings
{
    [CommandArgument(0, "<ID|NAME>")]
    [Description("The key's id (key_...) or its name, if no other key has it.")]
    public string Target { get; init; } = "";

    [CommandOption("--workspace <WORKSPACE>")]
    [Description("Only a key of this workspace (id or name).")]
    public string? Workspace { get; init; }

    /// <summary>The key's id: the argument itself when a key has that id, else the one key with that name. An active key
    /// wins over revoked ones of the same name; several candidates are a user error that lists them.</summary>
    internal async Task<string> ResolveAsync(MulanApiClient api, CancellationToken ct)
    {
        var keys = (await api.GetAsync(MulanApiClient.WithQuery("api/keys", ("workspace", Workspace)), ct))["keys"]!.AsArray().OfType<JsonObject>().ToList();
        var named = keys.Where(k => k["name"]!.GetValue<string>() == Target).ToList();
        // An id (listed or not) goes to the server as is, which answers 404 for one that does not exist.
        if (keys.Any(k => k["id"]!.GetValue<string>() == Target) || (named.Count == 0 && Target.StartsWith("key_", StringComparison.Ordinal)))
        {
            return Target;
        }
        var active = named.Where(k => k["revokedAt"] is null).ToList();
        var candidates = active.Count > 0 ? active : named;
        return candidates.Count switch
        {
            1 => candidates[0]["id"]!.GetValue<string>(),
            0 => throw new CliUserException($"ID|NAME: no key with the id or name '{Target}'" + (Workspace is null ? "" : $" in workspace '{Workspace}'")),
            _ => throw new CliUserException($"ID|NAME: {candidates.Count} keys are named '{Target}'; give one of their ids: " + string.Join(", ",
                candidates.Select(k => $"{k["id"]} (workspace {k["workspace"]}, created {k["createdAt"]}{(k["revokedAt"] is null ? "" : ", revoked")})"))),
        };
    }

    internal string Path(string id, string rest = "") => MulanApiClient.WithQuery($"api/keys/{Uri.EscapeDataString(id)}{rest}", ("workspace", Workspace));
}

public sealed class KeysRevokeCommand : AsyncCommand<KeyTargetSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, KeyTargetSettings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await s.ResolveAsync(api, ct);
        await api.DeleteAsync(s.Path(id), ct);
        if (s.Json)
        {
            JsonTables.Print(new JsonObject { ["id"] = id, ["revoked"] = true });
        }
        else
        {
            System.Console.WriteLine($"Revoked {id}.");
        }
        return 0;
    }
}

public sealed class KeysRotateCommand : AsyncCommand<KeyTargetSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, KeyTargetSettings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await s.ResolveAsync(api, ct);
        var rotated = await api.SendJsonAsync(HttpMethod.Post, s.Path(id, "/rotate"), null, ct);
        if (s.Json)
        {
            JsonTables.Print(rotated);
            return 0;
        }
        AnsiConsole.MarkupLine($"Rotated key [bold]{Markup.Escape(rotated["name"]!.GetValue<string>())}[/] ({Markup.Escape(id)}); the old key no longer works.");
        AnsiConsole.MarkupLine("The new key is shown only now; store it safely:");
        System.Console.WriteLine();
        System.Console.WriteLine("    " + rotated["key"]!.GetValue<string>());
        System.Console.WriteLine();
        return 0;
    }
}

/// <summary><c>mulan keys update ID|NAME</c>: changes only what a flag names; the <c>--no-*</c> flags remove a setting.</summary>
public sealed class KeysUpdateCommand : AsyncCommand<KeysUpdateCommand.Settings>
{
    public sealed class Settings : KeyTargetSettings
    {
        [CommandOption("--name <NAME>")]
        public string? Name { get; init; }

        [CommandOption("--models <MODELS>")]
        [Description("Comma-separated models the key may use (replaces the list).")]
        public string? Models { get; init; }

        [CommandOption("--all-models")]
        [Description("Let the key use every model.")]
        public bool AllModels { get; init; }

        [CommandOption("--budget <BUDGET>")]
        [Description("Spending limit such as 10USD/month, 500CNY/day or 20USD/total.")]
        public string? Budget { get; init; }

        [CommandOption("--no-budget")]
        public bool NoBudget { get; init; }

        [CommandOption("--rpm <N>")]
        public int? Rpm { get; init; }

        [CommandOption("--no-rpm")]
        public bool NoRpm { get; init; }

        [CommandOption("--tpm <N>")]
        public int? Tpm { get; init; }

        [CommandOption("--no-tpm")]
        public bool NoTpm { get; init; }

        [CommandOption("--expires <WHEN>")]
        [Description("Expiry as an ISO 8601 date/time, or a duration such as 30d or 12h.")]
        public string? Expires { get; init; }

        [CommandOption("--no-expiry")]
        public bool NoExpiry { get; init; }

        public override ValidationResult Validate()
        {
            foreach (var (given, removed, flag) in new[]
            {
                (Models is not null, AllModels, "--models and --all-models"), (Budget is not null, NoBudget, "--budget and --no-budget"),
                (Rpm is not null, NoRpm, "--rpm and --no-rpm"), (Tpm is not null, NoTpm, "--tpm and --no-tpm"), (Expires is not null, NoExpiry, "--expires and --no-expiry"),
            })
            {
                if (given && removed)
                {
                    return ValidationResult.Error($"{flag}: give one or the other");
                }
            }
            if (Budget is not null && !KeysCreateCommand.TryParseBudget(Budget, out _))
            {
                return ValidationResult.Error($"--budget: '{Budget}' is not like 10USD/month (currency CNY or USD; period day, month or total)");
            }
            return Patch().Count == 0 ? ValidationResult.Error("Nothing to change: give --name, --models, --budget, --rpm, --tpm, --expires or a --no-* flag.") : ValidationResult.Success();
        }

        /// <summary>The JSON merge patch: only the fields a flag names; null removes.</summary>
        internal JsonObject Patch()
        {
            var patch = new JsonObject();
            if (Name is not null) { patch["name"] = Name; }
            if (Models is not null) { patch["models"] = new JsonArray([.. Models.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(m => (JsonNode)m)]); }
            if (AllModels) { patch["models"] = null; }
            if (Budget is not null) { KeysCreateCommand.TryParseBudget(Budget, out var b); patch["budget"] = System.Text.Json.JsonSerializer.SerializeToNode(b); }
            if (NoBudget) { patch["budget"] = null; }
            if (Rpm is not null) { patch["rpm"] = Rpm; }
            if (NoRpm) { patch["rpm"] = null; }
            if (Tpm is not null) { patch["tpm"] = Tpm; }
            if (NoTpm) { patch["tpm"] = null; }
            if (Expires is not null) { patch["expiresAt"] = KeysCreateCommand.ParseExpiry(Expires); }
            if (NoExpiry) { patch["expiresAt"] = null; }
            return patch;
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await s.ResolveAsync(api, ct);
        var key = await api.SendJsonAsync(HttpMethod.Patch, s.Path(id), s.Patch(), ct);
        if (s.Json)
        {
            JsonTables.Print(key);
            return 0;
        }
        var models = key["models"] is JsonArray list ? string.Join(",", list) : "all";
        System.Console.WriteLine($"Updated key {key["name"]} ({id}): models {models}, budget {Budget(key["budget"])}, rpm {key["rpm"]?.ToString() ?? "none"}, " +
            $"tpm {key["tpm"]?.ToString() ?? "none"}, expires {key["expiresAt"]?.ToString() ?? "never"}.");
        return 0;
    }

    private static string Budget(JsonNode? b) => b is null ? "none" : $"{b["amount"]}{b["currency"]}/{b["period"]}";
}
