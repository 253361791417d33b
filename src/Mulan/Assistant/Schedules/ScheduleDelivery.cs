using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Mulan.Apps;
using Mulan.Assistant.Runs;
using Mulan.Outbound;

namespace Mulan.Assistant.Schedules;

/// <summary>
/// Posts a scheduled run to its schedule's webhook once the run has ended, through the guarded client (public
/// addresses only, unless <see cref="AssistantOptions.WebhookAllowHosts"/> names the exact host). The attempt is the
/// run's last step (<c>delivery</c>), so a failed delivery is visible in the trace; the output stays on the run either way.
/// </summary>
public sealed partial class ScheduleDelivery(IRunStore store, IAppStore apps, GuardedHttpClient web, IOptions<AssistantOptions> options, TimeProvider time,
    ILogger<ScheduleDelivery> logger)
{
    private readonly IReadOnlyList<string> _allowHosts = [.. options.Value.WebhookAllowHosts.Select(GuardedHttpClient.Canonical)];
    public const long MaxResponseBytes = 64 * 1024;

    public async Task DeliverAsync(Run run)
    {
        if (run.Origin != RunOrigins.Schedule || run.Schedule is null || await apps.VersionAsync(run.AppId, run.AppVersion, CancellationToken.None) is not { } version)
        {
            return;
        }
        var definition = JsonSerializer.Deserialize<AppDefinition>(version.Definition, AppDefinition.Json)!;
        if (definition.Assistant?.Schedules?.FirstOrDefault(s => s.Name == run.Schedule)?.Webhook is not { } webhook)
        {
            return;
        }
        var payload = new JsonObject
        {
            ["event"] = "run.ended",
            ["run"] = run.Id,
            ["app"] = run.AppId,
            ["appVersion"] = run.AppVersion,
            ["schedule"] = run.Schedule,
            ["status"] = run.Status,
            ["output"] = run.Output,
            ["error"] = run.Error,
            ["cost"] = new JsonObject { ["amount"] = run.Cost, ["currency"] = run.Currency },
            ["endedAt"] = run.EndedAt,
        };
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        string status;
        string? output = null, error = null;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = JsonContent.Create(payload) };
            request.Headers.TryAddWithoutValidation("X-Mulan-Run", run.Id);
            var (code, _, _) = await web.SendAsync(request, MaxResponseBytes, _allowHosts, timeout.Token);
            status = code is >= 200 and < 300 ? StepStatuses.Ok : StepStatuses.Failed;
            output = $"HTTP {code}";
            error = status == StepStatuses.Ok ? null : $"the webhook answered HTTP {code}";
        }
        catch (Exception e) when (e is BlockedUrlException or OutboundTimeoutException or HttpRequestException or OperationCanceledException)
        {
            status = StepStatuses.Failed;
            error = e is OperationCanceledException ? "the webhook did not answer within 60 s" : e.Message;
        }
        var step = new RunStep(run.Steps + 1, StepKinds.Delivery, new Uri(webhook.Url).Host, status, null, output, error,
            (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, 0, null, time.GetUtcNow());
        // The step only: the conversation is not needed, nor rewritten.
        var state = await store.StateAsync(run.Id, CancellationToken.None, conversation: false) ?? new RunState();
        if (!await store.SaveAsync(run with { Steps = step.Seq }, state, [step], run.Status, CancellationToken.None))
        {
            LogNotRecorded(logger, run.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The webhook delivery of run {RunId} could not be recorded on the run")]
    private static partial void LogNotRecorded(ILogger logger, string runId);
}
