using Mulan.Bench.Hosting;
using Mulan.Bench.Load;
using Mulan.Bench.Streaming;

namespace Mulan.Bench.Arms;

/// <summary>
/// Before anything is measured, each arm must answer a real chat request with a chat completion and stream a
/// complete profile-B reply. A gateway that answers fast with an error would otherwise look like the winner.
/// </summary>
internal static class ArmCheck
{
    public static async Task VerifyAsync(ArmSet arms, LoadClient client, Progress progress, CancellationToken ct)
    {
        foreach (var arm in arms.Active)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromSeconds(30));
            var chat = await CheckChatAsync(client, arm, limit.Token);
            ct.ThrowIfCancellationRequested();
            if (chat is not null)
            {
                if (arm.Kind == ArmKind.Direct)
                {
                    throw new BenchException($"the fake vendor itself fails: {chat}");
                }

                progress.Say($"skipping {arm.Name}: {chat}");
                await arms.SkipAsync(arm, chat);
                continue;
            }

            var trace = await StreamProbe.RunAsync(client, arm, Workload.StreamB, limit.Token);
            ct.ThrowIfCancellationRequested();
            if (!trace.IsComplete(Workload.StreamB.ExpectedDeltas()))
            {
                var reason = $"streaming check failed: {trace.Describe(Workload.StreamB.ExpectedDeltas())}";
                if (arm.Kind == ArmKind.Direct)
                {
                    throw new BenchException($"the fake vendor itself fails: {reason}");
                }

                progress.Say($"{arm.Name}: {reason}; its streaming figures are skipped");
                arm.DisableStreaming(reason);
            }

            progress.Say($"{arm.Name} ok: {arm.ChatUrl}");
        }
    }

    private static async Task<string?> CheckChatAsync(LoadClient client, ArmTarget arm, CancellationToken ct)
    {
        try
        {
            var (status, body) = await client.ChatWithBodyAsync(arm, ct);
            return status == 200 && body.Contains("\"chat.completion\"", StringComparison.Ordinal)
                ? null
                : $"chat check failed: HTTP {status}: {(body.Length > 300 ? body[..300] : body)}";
        }
        catch (HttpRequestException e)
        {
            return $"chat check failed: {e.Message}";
        }
        catch (OperationCanceledException)
        {
            // The caller tells a time-out from an interrupted run by its own token.
            return "chat check failed: no answer within 30 s";
        }
    }
}
