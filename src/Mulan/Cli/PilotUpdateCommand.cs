using System.ComponentModel;
using System.Text.Json.Nodes;
using Mulan.Pilots;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary><c>mulan pilot update PILOT</c>: status, name, dates, budget, keys or alerts; what is not given stays as it is.</summary>
public sealed class PilotUpdateCommand : AsyncCommand<PilotUpdateCommand.Settings>
{
    public sealed class Settings : PilotSettings
    {
        [CommandOption("--status <STATUS>")]
        [Description("planned, active or closed.")]
        public string? Status { get; init; }

        [CommandOption("--name <NAME>")]
        public string? Name { get; init; }

        [CommandOption("--start <DATE>")]
        public string? Start { get; init; }

        [CommandOption("--end <DATE>")]
        public string? End { get; init; }

        [CommandOption("--budget <AMOUNT_CUR>")]
        public string? Budget { get; init; }

        [CommandOption("--key <ID>")]
        [Description("The pilot's keys (replaces the list). Repeatable.")]
        public string[] Keys { get; init; } = [];

        [CommandOption("--alert <FRACTION>")]
        [Description("The alert thresholds (replaces them; the webhook is kept). Repeatable.")]
        public string[] Alerts { get; init; } = [];

        [CommandOption("--webhook <URL>")]
        [Description("Where alerts are posted (the thresholds are kept).")]
        public string? Webhook { get; init; }

        public override ValidationResult Validate() => PilotArgs.Check(() =>
        {
            if (Patch(null).Count == 0)
            {
                throw new CliUserException("--status, --name, --start, --end, --budget, --key, --alert or --webhook: give what to change");
            }
        });

        /// <summary>The merge patch; <paramref name="current"/> is the pilot, whose alert settings are kept where not given.</summary>
        internal JsonObject Patch(JsonNode? current)
        {
            var patch = new JsonObject();
            if (Status is not null) { patch["status"] = PilotArgs.OneOf("--status", Status, PilotStatuses.All); }
            if (Name is not null) { patch["name"] = Name; }
            if (Start is not null) { patch["start"] = PilotArgs.Date("--start", Start); }
            if (End is not null) { patch["end"] = PilotArgs.Date("--end", End); }
            if (Start is not null && End is not null && string.CompareOrdinal(patch["end"]!.GetValue<string>(), patch["start"]!.GetValue<string>()) < 0)
            {
                throw new CliUserException($"--end: {End} is before --start {Start}");
            }
            if (Budget is not null) { patch["budget"] = PilotArgs.Money("--budget", Budget); }
            if (Keys.Length > 0) { patch["keys"] = new JsonArray([.. Keys.Select(k => (JsonNode)k)]); }
            if (Alerts.Length > 0 || Webhook is not null)
            {
                var thresholds = Alerts.Length > 0 ? PilotArgs.Thresholds(Alerts) : current?["alerts"]?["thresholds"]?.DeepClone() ?? new JsonArray();
                var alerts = new JsonObject { ["thresholds"] = thresholds };
                if ((Webhook ?? current?["alerts"]?["webhook"]?["url"]?.GetValue<string>()) is { } url)
                {
                    alerts["webhook"] = new JsonObject { ["url"] = url };
                }
                patch["alerts"] = alerts;
            }
            return patch;
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await PilotArgs.ResolveAsync(api, s.Pilot, ct);
        var current = s.Alerts.Length > 0 || s.Webhook is not null ? (await api.GetAsync(PilotArgs.Path(id), ct))["pilot"] : null;
        var updated = await api.SendJsonAsync(HttpMethod.Patch, PilotArgs.Path(id), s.Patch(current), ct);
        return AppSettings.Report(s, updated,
            $"{id}: {updated["name"]}, {updated["status"]}, {updated["start"]} – {updated["end"]}, budget " +
            (updated["budget"] is JsonObject b ? $"{PilotArgs.Amount(b["amount"])} {b["currency"]}" : "none"));
    }
}
