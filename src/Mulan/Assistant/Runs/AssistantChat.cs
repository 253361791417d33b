using System.Text.Json.Nodes;
using Mulan.Apps.Runtime;
using Mulan.Gateway.Metering;

namespace Mulan.Assistant.Runs;

/// <summary>
/// An assistant app as <c>app:&lt;slug&gt;</c> on <c>/v1/chat/completions</c>: the request's last user message starts a
/// run on the caller's key (earlier messages are its history), and the answer is the run's output. A streamed request
/// shows each step as it happens in chunks with an empty delta and a <c>mulan_step</c> field, which OpenAI clients
/// ignore, so that they still read a normal stream. A run that needs an approval answers with what waits for whom;
/// the run goes on once a person decides (<c>/api/runs/{id}</c>).
/// </summary>
public sealed class AssistantChat(RunService runs, UsageLedger ledger)
{
    public async Task HandleAsync(AppGateway.AppCall call, AppGateway gateway)
    {
        var ctx = call.Ctx;
        var run = await runs.CreateAsync(call.App, call.X.Key, RunOrigins.Chat, call.Turn.Question, null, call.X.EndUser, call.X.RequestId,
            call.Turn.History, ctx.RequestAborted, call.Turn.Inputs);
        ctx.Response.Headers["x-mulan-run-id"] = run.Id;
        AppGateway.AppStream? stream = null;
        if (call.X.Request!.Stream)
        {
            stream = new AppGateway.AppStream(call);
            await stream.StartAsync();
        }
        var final = await runs.ExecuteAsync(run.Id, stream is null ? null : step => stream.ProgressAsync(Progress(step)), ctx.RequestAborted);
        call.Add(new ModelCallResult(200, "", final.PromptTokens, final.CompletionTokens, final.Cost, final.Currency, "", null));
        if (ctx.RequestAborted.IsCancellationRequested)
        {
            await ledger.TryRecordAsync(call.X.ToRecord(UsageStatus.ClientAborted, default, 499, "client closed the connection"));
            return;
        }
        var extras = new JsonObject { ["run_id"] = final.Id, ["run_status"] = final.Status };
        string answer;
        switch (final.Status)
        {
            case RunStatuses.Succeeded:
                answer = final.Output ?? "";
                break;
            case RunStatuses.AwaitingApproval when await runs.PendingAsync(final.Id) is { } pending:
                answer = $"This needs a person's approval before it runs: {pending.Tool} {pending.Arguments.ToJsonString()}. Run {final.Id} waits for a decision.";
                extras["pending_approval"] = new JsonObject { ["tool"] = pending.Tool, ["arguments"] = pending.Arguments.DeepClone(), ["expiresAt"] = pending.ExpiresAt };
                break;
            default:
                var error = new JsonObject { ["message"] = $"Run {final.Id} {final.Status}: {final.Error}", ["type"] = "upstream_error", ["code"] = "run_" + final.Status };
                if (stream is null)
                {
                    await gateway.FailAsync(call, 502, error);
                }
                else
                {
                    await ledger.TryRecordAsync(call.X.ToRecord(UsageStatus.UpstreamError, default, 502, error["message"]!.ToString()));
                    await stream.ErrorAsync(error);
                }
                return;
        }
        if (!await gateway.SaveAsync(call, answer, [], streamStarted: stream is not null))
        {
            if (stream is not null)
            {
                await stream.ErrorAsync(new JsonObject { ["message"] = "The usage ledger is unavailable; the stream was not completed.", ["type"] = "service_unavailable" });
            }
            return;
        }
        if (stream is null)
        {
            await gateway.WriteCompletionAsync(call, [answer], "stop", [], true, extras);
            return;
        }
        await stream.DeltaAsync(answer);
        await stream.EndAsync("stop", [], true, extras);
    }

    private static JsonObject Progress(RunStep step) => new()
    {
        ["seq"] = step.Seq,
        ["kind"] = step.Kind,
        ["name"] = step.Name,
        ["status"] = step.Status,
        ["durationMs"] = step.DurationMs,
    };
}
