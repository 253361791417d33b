using System.ComponentModel;
using System.Text.Json.Nodes;
using Mulan.Pilots;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>
/// <c>mulan pilot change PILOT</c>: change control of a frozen scope in one verb. Alone it lists the change requests;
/// with scope flags and an impact it files one (<c>--kind add</c> by default, <c>change</c> when <c>--item</c> is
/// given, or <c>remove</c>); <c>--approve CID</c> or <c>--reject CID</c> with <c>--by</c> decides one.
/// </summary>
public sealed class PilotChangeCommand : AsyncCommand<PilotChangeCommand.Settings>
{
    public sealed class Settings : PilotScopeSettings
    {
        [CommandOption("--kind <KIND>")]
        [Description("add, change or remove (default add, or change with --item).")]
        public string? Kind { get; init; }

        [CommandOption("--item <ID>")]
        [Description("The scope item to change or remove.")]
        public string? Item { get; init; }

        [CommandOption("--effort-days <D>")]
        [Description("Impact: the person-days the change adds (required to request).")]
        public string? EffortDays { get; init; }

        [CommandOption("--cost <AMOUNT_CUR>")]
        [Description("Impact: what the change costs, e.g. 9000CNY (required to request).")]
        public string? Cost { get; init; }

        [CommandOption("--schedule-days <N>")]
        [Description("Impact: days the end moves (negative: earlier; default 0).")]
        public string? ScheduleDays { get; init; }

        [CommandOption("--reason <TEXT>")]
        [Description("Why the change is asked for (required to request).")]
        public string? Reason { get; init; }

        [CommandOption("--approve <CID>")]
        [Description("Approve this change request: it is applied to the scope.")]
        public string? Approve { get; init; }

        [CommandOption("--reject <CID>")]
        [Description("Reject this change request.")]
        public string? Reject { get; init; }

        [CommandOption("--by <NAME>")]
        [Description("Who decides (required with --approve or --reject).")]
        public string? By { get; init; }

        [CommandOption("--note <TEXT>")]
        [Description("A note kept with the decision.")]
        public string? Note { get; init; }

        internal bool Deciding => Approve is not null || Reject is not null;

        internal bool Requesting => HasScopeFields || Kind is not null || Item is not null || EffortDays is not null || Cost is not null || ScheduleDays is not null
            || Reason is not null;

        internal string ResolvedKind => Kind ?? (Item is null ? "add" : "change");

        public override ValidationResult Validate() => PilotArgs.Check(() =>
        {
            if (Approve is not null && Reject is not null)
            {
                throw new CliUserException("--approve and --reject: give one");
            }
            if (Deciding)
            {
                if (Requesting)
                {
                    throw new CliUserException($"{(Approve is null ? "--reject" : "--approve")}: decides a request; leave out the request's flags");
                }
                if (string.IsNullOrWhiteSpace(By))
                {
                    throw new CliUserException("--by: required with --approve or --reject (who decides)");
                }
                return;
            }
            if (By is not null || Note is not null)
            {
                throw new CliUserException($"{(By is null ? "--note" : "--by")}: only with --approve or --reject");
            }
            if (Requesting)
            {
                _ = RequestBody(null);
            }
        });

        /// <summary>The change request; <paramref name="current"/> is the item being changed (its fields are kept unless given).</summary>
        internal JsonObject RequestBody(JsonObject? current)
        {
            var kind = PilotArgs.OneOf("--kind", ResolvedKind, ChangeKinds.All);
            ParseScope();
            if (kind is "change" or "remove" && Item is null)
            {
                throw new CliUserException($"--item: required with --kind {kind}");
            }
            if (kind == "add" && Item is not null)
            {
                throw new CliUserException("--item: an added item gets a new id; leave --item out (or --kind change)");
            }
            if (kind == "remove" && HasScopeFields)
            {
                throw new CliUserException("--kind remove: carries no scope fields (--title, --priority, ...)");
            }
            if (kind == "add" && (Title is null || Priority is null))
            {
                throw new CliUserException(Title is null ? "--title: required to add a scope item" : "--priority: required to add a scope item (must, should, could, wont)");
            }
            if (kind == "change" && !HasScopeFields)
            {
                throw new CliUserException("--kind change: give the fields to change (--title, --priority, --criterion, ...)");
            }
            var body = new JsonObject
            {
                ["kind"] = kind,
                ["impact"] = new JsonObject
                {
                    ["effortDays"] = PilotArgs.Number("--effort-days", EffortDays ?? throw new CliUserException("--effort-days: required (the impact in person-days)"), 100_000),
                    ["cost"] = PilotArgs.Money("--cost", Cost ?? throw new CliUserException("--cost: required (the impact, e.g. 9000CNY)")),
                    ["scheduleDays"] = ScheduleDays is null ? 0 : PilotArgs.Number("--schedule-days", ScheduleDays, 3650, whole: true),
                },
                ["reason"] = string.IsNullOrWhiteSpace(Reason) ? throw new CliUserException("--reason: required (why the change is asked for)") : Reason,
            };
            if (Item is not null) { body["item"] = Item; }
            if (kind != "remove") { body["scope"] = ScopeBody(current); }
            return body;
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await PilotArgs.ResolveAsync(api, s.Pilot, ct);
        if (s.Deciding)
        {
            var cid = s.Approve ?? s.Reject!;
            var body = new JsonObject { ["by"] = s.By };
            if (s.Note is not null) { body["note"] = s.Note; }
            var decided = await api.SendJsonAsync(HttpMethod.Post, PilotArgs.Path(id, $"/changes/{Uri.EscapeDataString(cid)}/{(s.Approve is null ? "reject" : "approve")}"), body, ct);
            return AppSettings.Report(s, decided, $"{cid}: {decided["status"]} by {decided["decidedBy"]}");
        }
        if (s.Requesting)
        {
            var current = s.ResolvedKind == "change" ? await PilotScopeCommand.CurrentItemAsync(api, id, s.Item!, ct) : null;
            var change = await api.SendJsonAsync(HttpMethod.Post, PilotArgs.Path(id, "/changes"), s.RequestBody(current), ct);
            return AppSettings.Report(s, change, $"{change["id"]}: {change["kind"]} requested, pending (decide with mulan pilot change {id} --approve {change["id"]} --by NAME)");
        }
        var changes = await api.GetAsync(PilotArgs.Path(id, "/changes"), ct);
        if (s.Json)
        {
            JsonTables.Print(changes);
            return 0;
        }
        var table = new Table().AddColumns("id", "kind", "item", "title", "effort days", "cost", "schedule days", "reason", "status", "decided by");
        foreach (var c in (changes["changes"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var impact = c["impact"];
            table.AddRow(JsonTables.Cell(c["id"]), JsonTables.Cell(c["kind"]), JsonTables.Cell(c["item"] ?? c["scope"]?["id"]), JsonTables.Cell(c["scope"]?["title"]),
                PilotArgs.Amount(impact?["effortDays"]), Markup.Escape($"{PilotArgs.Amount(impact?["cost"]?["amount"])} {impact?["cost"]?["currency"]}"),
                JsonTables.Cell(impact?["scheduleDays"]), JsonTables.Cell(c["reason"]), JsonTables.Cell(c["status"]), JsonTables.Cell(c["decidedBy"]));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
