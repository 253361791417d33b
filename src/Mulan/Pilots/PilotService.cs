using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Mulan.Assistant;
using Mulan.Evaluations;
using Mulan.Gateway.Metering;
using Mulan.Governance.Currencies;
using Mulan.Outbound;

namespace Mulan.Pilots;

/// <summary>Everything a pilot's ledger and report are made of, read once.</summary>
public sealed record PilotFacts(Pilot Pilot, IReadOnlyList<ScopeItem> Scope, IReadOnlyList<ChangeRequest> Changes, IReadOnlyList<EffortEntry> Effort,
    LedgerFigures Ledger, IReadOnlyList<PilotAlert> Alerts, IReadOnlyList<ItemAcceptance> Acceptance, IReadOnlyList<Signoff> Signoffs, bool EvaluationsAvailable,
    DateTimeOffset GeneratedAt)
{
    public IReadOnlyList<BakeoffResult> Bakeoffs { get; init; } = [];
}

/// <summary>
/// Reads a pilot's ledger from its effort entries and the usage ledger (records in the pilot's period whose app is bound
/// to one of its scope items or whose key is one of its keys), and raises alerts once per threshold: <c>budget</c> when
/// model and tool spend reaches a fraction of the budget, <c>contract</c> when cost to date reaches a fraction of the
/// contract value. A new alert is recorded first, then posted to the pilot's webhook through the guarded client.
/// </summary>
public sealed partial class PilotService(IPilotStore store, IUsageStore usage, ExchangeRates rates, GuardedHttpClient web, IOptions<AssistantOptions> assistant,
    IServiceProvider services, TimeProvider time, ILogger<PilotService> logger)
{
    public const long MaxResponseBytes = 64 * 1024;
    private readonly IReadOnlyList<string> _allowHosts = [.. assistant.Value.WebhookAllowHosts.Select(GuardedHttpClient.Canonical)];

    /// <summary>The evaluation feature, when this server has one; without it acceptance is "not evaluated".</summary>
    public IEvaluationResults? Evaluations => services.GetService<IEvaluationResults>();

    public DateOnly Today => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    public async Task<(LedgerFigures Ledger, IReadOnlyList<ScopeItem> Scope, IReadOnlyList<EffortEntry> Effort)> LedgerAsync(Pilot pilot, CancellationToken ct)
    {
        var scope = await store.ScopeAsync(pilot.Id, ct);
        var effort = await store.EffortAsync(pilot.Id, ct);
        // The whole period, day by day in UTC; the end date is included.
        var from = new DateTimeOffset(pilot.Start.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var to = new DateTimeOffset(pilot.End.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var apps = scope.Select(s => s.App).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        // The bake-offs' runs are the pilot's work too, whatever they targeted.
        var bakeoffRuns = (await store.BakeoffsAsync(pilot.Id, ct)).SelectMany(b => b.Runs).Distinct(StringComparer.Ordinal).ToList();
        var spend = await usage.AttributedSpendAsync(pilot.WorkspaceId, apps, pilot.Keys, bakeoffRuns, from, to, ct);
        var ledger = PilotLedger.Compute(pilot, scope, effort, spend, rates.Current, Today);
        await RaiseAlertsAsync(pilot, ledger, ct);
        return (ledger, scope, effort);
    }

    public async Task<PilotFacts> FactsAsync(Pilot pilot, CancellationToken ct)
    {
        var (ledger, scope, effort) = await LedgerAsync(pilot, ct);
        var evaluations = Evaluations;
        var acceptance = await Acceptance.EvaluateAsync(pilot.WorkspaceId, scope, evaluations, ct);
        return new PilotFacts(pilot, scope, await store.ChangesAsync(pilot.Id, ct), effort, ledger, await store.AlertsAsync(pilot.Id, ct), acceptance,
            await store.SignoffsAsync(pilot.Id, ct), evaluations is not null, time.GetUtcNow())
        {
            Bakeoffs = await PilotBakeoffs.ResultsAsync(pilot, store, evaluations, ct),
        };
    }

    private async Task RaiseAlertsAsync(Pilot pilot, LedgerFigures ledger, CancellationToken ct)
    {
        // Settings stored before thresholds were kept canonical may still say 1.0 for 1.
        foreach (var t in pilot.Alerts.Thresholds.Select(PilotInput.Canonical).Distinct())
        {
            if (ledger.BudgetUsed is { } used && used >= t)
            {
                await RaiseAsync(new PilotAlert(pilot.Id, "budget", t, used, time.GetUtcNow(), null), pilot, ledger, ct);
            }
            if (ledger.ContractValue > 0 && ledger.ContractUsed >= t)
            {
                await RaiseAsync(new PilotAlert(pilot.Id, "contract", t, ledger.ContractUsed, time.GetUtcNow(), null), pilot, ledger, ct);
            }
        }
    }

    private async Task RaiseAsync(PilotAlert alert, Pilot pilot, LedgerFigures ledger, CancellationToken ct)
    {
        if (!await store.AddAlertAsync(alert, ct) || pilot.Alerts.WebhookUrl is not { } url)
        {
            return;
        }
        var payload = new JsonObject
        {
            ["event"] = "pilot.alert",
            ["pilot"] = pilot.Id,
            ["name"] = pilot.Name,
            ["kind"] = alert.Kind,
            ["threshold"] = alert.Threshold,
            ["ratio"] = alert.Ratio,
            ["spend"] = new JsonObject { ["amount"] = ledger.Spend, ["currency"] = ledger.Currency },
            ["costToDate"] = new JsonObject { ["amount"] = ledger.CostToDate, ["currency"] = ledger.Currency },
            ["at"] = alert.At,
        };
        string delivery;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(payload) };
            request.Headers.TryAddWithoutValidation("X-Mulan-Pilot", pilot.Id);
            var (code, _, _) = await web.SendAsync(request, MaxResponseBytes, _allowHosts, timeout.Token);
            delivery = $"HTTP {code}";
        }
        catch (Exception e) when (e is BlockedUrlException or OutboundTimeoutException or HttpRequestException or OperationCanceledException)
        {
            delivery = "failed: " + e.Message;
            LogDeliveryFailed(logger, pilot.Id, alert.Kind, alert.Threshold, e.Message);
        }
        await store.UpdateAlertAsync(alert with { Delivery = delivery }, CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pilot {Pilot} alert {Kind} at {Threshold} not delivered: {Reason}")]
    private static partial void LogDeliveryFailed(ILogger logger, string pilot, string kind, decimal threshold, string reason);
}
