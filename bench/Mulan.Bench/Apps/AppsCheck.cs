using System.Net;
using System.Text.Json.Nodes;
using Mulan.Bench.Hosting;
using Mulan.Bench.Load;

namespace Mulan.Bench.Apps;

/// <summary>
/// Before anything is measured every arm must answer 200, and the app must answer like an app: a chat completion
/// with citations. An app that answered fast with an error or a refusal would otherwise look cheap.
/// </summary>
internal static class AppsCheck
{
    private const int Sample = 60;

    /// <returns>the share of the sampled questions the app answered with <c>found: true</c> and citations.</returns>
    public static async Task<double> VerifyAsync(LoadClient client, IReadOnlyList<AppsArm> arms, AppsArm app, Progress progress, CancellationToken ct)
    {
        foreach (var arm in arms)
        {
            if (await AppsLoad.SendAsync(client, arm, ct) is { } error)
            {
                throw new BenchException($"{arm.Name} fails its check: {error}");
            }
        }

        var found = 0;
        for (var i = 0; i < Sample; i++)
        {
            using var response = await client.PostAsync(app.Url, app.Authorization, app.NextBody(), HttpCompletionOption.ResponseContentRead, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode != HttpStatusCode.OK || JsonNode.Parse(text) is not JsonObject body || body["object"]?.GetValue<string>() != "chat.completion")
            {
                throw new BenchException($"the app does not answer with a chat completion: HTTP {(int)response.StatusCode}: {(text.Length > 300 ? text[..300] : text)}");
            }

            if (body["found"]?.GetValue<bool>() == true && body["citations"] is JsonArray { Count: > 0 })
            {
                found++;
            }
        }

        progress.Say($"all arms answer; the app found a cited answer for {found} of {Sample} questions");
        return (double)found / Sample;
    }
}
