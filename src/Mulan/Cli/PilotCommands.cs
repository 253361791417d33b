using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Mulan.Pilots;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>Options of the verbs that name a pilot.</summary>
public class PilotSettings : ClientSettings
{
    [CommandArgument(0, "<PILOT>")]
    [Description("The pilot's id (pilot_...) or its name.")]
    public string Pilot { get; init; } = "";
}

/// <summary>The fields of a scope item, shared by <c>pilot scope</c> (a direct change) and <c>pilot change</c> (a change request).</summary>
public class PilotScopeSettings : PilotSettings
{
    [CommandOption("--title <TITLE>")]
    [Description("The item's title (required to add one).")]
    public string? Title { get; init; }

    [CommandOption("--priority <P>")]
    [Description("must, should, could or wont.")]
    public string? Priority { get; init; }

    [CommandOption("--description <TEXT>")]
    [Description("What the item covers (shown in the report).")]
    public string? Description { get; init; }

    [CommandOption("--owner <NAME>")]
    [Description("Who answers for the item.")]
    public string? Owner { get; init; }

    [CommandOption("--app <SLUG_OR_ID>")]
    [Description("The app that delivers the item; its traffic in the period counts as the pilot's spend.")]
    public string? App { get; init; }

    [CommandOption("--criterion <METRIC=VALUE@SET>")]
    [Description("An acceptance criterion, e.g. factRecall=0.8@evs_abc (a maximum for latency and cost). Repeatable; replaces the item's criteria.")]
    public string[] Criteria { get; init; } = [];

    internal bool HasScopeFields => Title is not null || Priority is not null || Description is not null || Owner is not null || App is not null || Criteria.Length > 0;

    internal void ParseScope()
    {
        if (Priority is not null)
        {
            PilotArgs.OneOf("--priority", Priority, Priorities.All);
        }
        foreach (var c in Criteria)
        {
            PilotArgs.Criterion(c);
        }
    }

    /// <summary>The item as it should be: <paramref name="current"/> (when changing one) with the given flags over it.</summary>
    internal JsonObject ScopeBody(JsonObject? current = null)
    {
        var body = new JsonObject();
        foreach (var field in new[] { "title", "priority", "description", "owner", "app", "criteria" })
        {
            if (current?[field] is { } value)
            {
                body[field] = value.DeepClone();
            }
        }
        void Set(string field, string? value)
        {
            if (value is not null)
            {
                body[field] = value;
            }
        }
        Set("title", Title);
        Set("priority", Priority);
        Set("description", Description);
        Set("owner", Owner);
        Set("app", App);
        if (Criteria.Length > 0 || current is null)
        {
            body["criteria"] = new JsonArray([.. Criteria.Select(c => (JsonNode)PilotArgs.Criterion(c))]);
        }
        return body;
    }
}

/// <summary><c>mulan pilot create</c>: a pilot with its customer, contract value, period and budget; prints its id.</summary>
public sealed class PilotCreateCommand : AsyncCommand<PilotCreateCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandOption("--name <NAME>")]
        public string? Name { get; init; }

        [CommandOption("--customer <NAME>")]
        public string? Customer { get; init; }

        [CommandOption("--vendor <NAME>")]
        [Description("Who delivers the pilot (shown in the report).")]
        public string? Vendor { get; init; }

        [CommandOption("--workspace <NAME>")]
        [Description("The pilot's workspace (with the administrator key; default the default workspace).")]
        public string? Workspace { get; init; }

        [CommandOption("--contract <AMOUNT_CUR>")]
        [Description("The contract value, e.g. 300000CNY or \"300000 CNY\".")]
        public string? Contract { get; init; }

        [CommandOption("--start <DATE>")]
        [Description("First day, YYYY-MM-DD.")]
        public string? Start { get; init; }

        [CommandOption("--end <DATE>")]
        [Description("Last day (included), YYYY-MM-DD.")]
        public string? End { get; init; }

        [CommandOption("--budget <AMOUNT_CUR>")]
        [Description("The model and tool spend budget, e.g. 1000CNY.")]
        public string? Budget { get; init; }

        [CommandOption("--key <ID>")]
        [Description("A virtual key whose traffic in the period is the pilot's spend. Repeatable.")]
        public string[] Keys { get; init; } = [];

        [CommandOption("--alert <FRACTION>")]
        [Description("Alert when spend ÷ budget or cost ÷ contract reaches it (0.8 = 80%). Repeatable.")]
        public string[] Alerts { get; init; } = [];

        [CommandOption("--webhook <URL>")]
        [Description("Where alerts are posted.")]
        public string? Webhook { get; init; }

        public override ValidationResult Validate() => PilotArgs.Check(() => Body());

        /// <summary>The request body; a missing or bad flag is an error naming it.</summary>
        internal JsonObject Body()
        {
            static string Required(string flag, string? value) =>
                string.IsNullOrWhiteSpace(value) ? throw new CliUserException($"{flag}: required") : value;
            var body = new JsonObject
            {
                ["name"] = Required("--name", Name),
                ["customer"] = Required("--customer", Customer),
                ["contractValue"] = PilotArgs.Money("--contract", Required("--contract", Contract)),
                ["start"] = PilotArgs.Date("--start", Required("--start", Start)),
                ["end"] = PilotArgs.Date("--end", Required("--end", End)),
            };
            if (string.CompareOrdinal(body["end"]!.GetValue<string>(), body["start"]!.GetValue<string>()) < 0)
            {
                throw new CliUserException($"--end: {End} is before --start {Start}");
            }
            if (Vendor is not null) { body["vendor"] = Vendor; }
            if (Workspace is not null) { body["workspace"] = Workspace; }
            if (Budget is not null) { body["budget"] = PilotArgs.Money("--budget", Budget); }
            if (Keys.Length > 0) { body["keys"] = new JsonArray([.. Keys.Select(k => (JsonNode)k)]); }
            if (Alerts.Length > 0 || Webhook is not null)
            {
                var alerts = new JsonObject { ["thresholds"] = PilotArgs.Thresholds(Alerts) };
                if (Webhook is not null)
                {
                    alerts["webhook"] = new JsonObject { ["url"] = Webhook };
                }
                body["alerts"] = alerts;
            }
            return body;
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var pilot = await api.SendJsonAsync(HttpMethod.Post, "api/pilots", s.Body(), ct);
        // The id alone, so that a script can write PILOT=$(mulan pilot create ...).
        return AppSettings.Report(s, pilot, pilot["id"]!.GetValue<string>());
    }
}

public sealed class PilotListCommand : AsyncCommand<ClientSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, ClientSettings s, CancellationToken ct) =>
        JsonTables.ListAsync(s, "api/pilots", "pilots", ct, ("id", "id"), ("name", "name"), ("customer", "customer"), ("status", "status"), ("start", "start"),
            ("end", "end"), ("frozen", "frozen"));
}

/// <summary><c>mulan pilot scope PILOT</c>: lists the scope; with <c>--title</c>/<c>--priority</c> adds an item, with <c>--item</c> replaces one.</summary>
public sealed class PilotScopeCommand : AsyncCommand<PilotScopeCommand.Settings>
{
    public sealed class Settings : PilotScopeSettings
    {
        [CommandOption("--item <ID>")]
        [Description("Change this item (the flags given replace its fields) instead of adding one.")]
        public string? Item { get; init; }

        [CommandOption("--remove <ID>")]
        [Description("Remove this item (before the freeze).")]
        public string? Remove { get; init; }

        public override ValidationResult Validate() => PilotArgs.Check(() =>
        {
            if (Remove is not null && (Item is not null || HasScopeFields))
            {
                throw new CliUserException("--remove: removes an item; leave out --item and the item's fields");
            }
            ParseScope();
            if (Item is not null && !HasScopeFields)
            {
                throw new CliUserException("--item: give the fields to change (--title, --priority, --criterion, ...)");
            }
            if (Item is null && HasScopeFields && (Title is null || Priority is null))
            {
                throw new CliUserException(Title is null ? "--title: required to add a scope item" : "--priority: required to add a scope item (must, should, could, wont)");
            }
        });
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await PilotArgs.ResolveAsync(api, s.Pilot, ct);
        if (!s.HasScopeFields && s.Remove is null)
        {
            var pilot = await api.GetAsync(PilotArgs.Path(id), ct);
            if (s.Json)
            {
                JsonTables.Print(pilot);
                return 0;
            }
            System.Console.WriteLine(pilot["pilot"]?["frozenAt"] is JsonValue at
                ? $"{id}: scope frozen at {at}; change it with mulan pilot change"
                : $"{id}: scope not frozen");
            PrintScope(pilot["scope"] as JsonArray ?? []);
            return 0;
        }
        JsonNode item;
        try
        {
            if (s.Remove is not null)
            {
                await api.DeleteAsync(PilotArgs.Path(id, $"/scope/{Uri.EscapeDataString(s.Remove)}"), ct);
                return AppSettings.Report(s, new JsonObject { ["removed"] = s.Remove }, $"{s.Remove}: removed from the scope of {id}");
            }
            if (s.Item is null)
            {
                item = await api.SendJsonAsync(HttpMethod.Post, PilotArgs.Path(id, "/scope"), s.ScopeBody(), ct);
            }
            else
            {
                var current = await CurrentItemAsync(api, id, s.Item, ct);
                item = await api.SendJsonAsync(HttpMethod.Put, PilotArgs.Path(id, $"/scope/{Uri.EscapeDataString(s.Item)}"), s.ScopeBody(current), ct);
            }
        }
        catch (CliUserException e) when (e.Status == 409)
        {
            // The server names its endpoint; someone at the command line wants the verb.
            throw new CliUserException($"{e.Message} From the command line: mulan pilot change {id} ... --effort-days D --cost AMOUNT_CUR --reason TEXT", 409);
        }
        return AppSettings.Report(s, item, $"{item["id"]}: {item["title"]} ({item["priority"]})");
    }

    /// <summary>The item of the pilot's current scope, so that a change keeps the fields not given.</summary>
    internal static async Task<JsonObject> CurrentItemAsync(MulanApiClient api, string pilot, string item, CancellationToken ct)
    {
        var scope = (await api.GetAsync(PilotArgs.Path(pilot), ct))["scope"] as JsonArray ?? [];
        return scope.OfType<JsonObject>().FirstOrDefault(i => i["id"]?.GetValue<string>() == item)
            ?? throw new CliUserException($"--item: no item '{item}' in the scope of {pilot}");
    }

    internal static void PrintScope(JsonArray scope)
    {
        var table = new Table().AddColumns("id", "title", "priority", "owner", "app", "criteria");
        foreach (var item in scope.OfType<JsonObject>())
        {
            var criteria = string.Join("\n", (item["criteria"] as JsonArray ?? []).Select(PilotArgs.Describe));
            table.AddRow(JsonTables.Cell(item["id"]), JsonTables.Cell(item["title"]), JsonTables.Cell(item["priority"]), JsonTables.Cell(item["owner"]),
                JsonTables.Cell(item["app"]), Markup.Escape(criteria));
        }
        AnsiConsole.Write(table);
    }
}

/// <summary><c>mulan pilot freeze PILOT</c>: the scope becomes the baseline; later changes are change requests.</summary>
public sealed class PilotFreezeCommand : AsyncCommand<PilotSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, PilotSettings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await PilotArgs.ResolveAsync(api, s.Pilot, ct);
        var frozen = await api.PostAsync(PilotArgs.Path(id, "/freeze"), new { }, ct);
        var count = (frozen["baseline"] as JsonArray)?.Count ?? 0;
        return AppSettings.Report(s, frozen, $"{id}: scope frozen at {frozen["pilot"]?["frozenAt"]}, {count.ToString(CultureInfo.InvariantCulture)} items in the baseline");
    }
}

/// <summary><c>mulan pilot effort PILOT --role R --days D --rate AMOUNT_CUR</c>: logs person-days at a day rate.</summary>
public sealed class PilotEffortCommand : AsyncCommand<PilotEffortCommand.Settings>
{
    public sealed class Settings : PilotSettings
    {
        [CommandOption("--role <ROLE>")]
        public string? Role { get; init; }

        [CommandOption("--person <NAME>")]
        public string? Person { get; init; }

        [CommandOption("--days <D>")]
        [Description("Person-days, e.g. 1.5.")]
        public string? Days { get; init; }

        [CommandOption("--rate <AMOUNT_CUR>")]
        [Description("The day rate, e.g. 2000CNY.")]
        public string? Rate { get; init; }

        [CommandOption("--item <SCOPE_ID>")]
        [Description("The scope item the effort went to.")]
        public string? Item { get; init; }

        [CommandOption("--date <DATE>")]
        [Description("The day, YYYY-MM-DD (default today, UTC).")]
        public string? Date { get; init; }

        public override ValidationResult Validate() => PilotArgs.Check(() => Body(DateOnly.MinValue));

        internal JsonObject Body(DateOnly today)
        {
            static string Required(string flag, string? value) =>
                string.IsNullOrWhiteSpace(value) ? throw new CliUserException($"{flag}: required") : value;
            var body = new JsonObject
            {
                ["role"] = Required("--role", Role),
                ["days"] = PilotArgs.Number("--days", Required("--days", Days), 10_000),
                ["dayRate"] = PilotArgs.Money("--rate", Required("--rate", Rate)),
                ["date"] = Date is null ? today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : PilotArgs.Date("--date", Date),
            };
            if (Person is not null) { body["person"] = Person; }
            if (Item is not null) { body["scopeItem"] = Item; }
            return body;
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await PilotArgs.ResolveAsync(api, s.Pilot, ct);
        var entry = await api.SendJsonAsync(HttpMethod.Post, PilotArgs.Path(id, "/effort"), s.Body(DateOnly.FromDateTime(DateTime.UtcNow)), ct);
        return AppSettings.Report(s, entry,
            $"{entry["id"]}: {PilotArgs.Amount(entry["days"])} days of {entry["role"]} at {PilotArgs.Amount(entry["dayRate"]?["amount"])} {entry["dayRate"]?["currency"]}" +
            $" = {PilotArgs.Amount(entry["amount"]?["amount"])} {entry["amount"]?["currency"]} on {entry["date"]}");
    }
}
