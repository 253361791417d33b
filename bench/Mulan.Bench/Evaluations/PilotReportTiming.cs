using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Mulan.Bench.Hosting;
using Mulan.Bench.Load;

namespace Mulan.Bench.Evaluations;

/// <summary>The time of one pilot endpoint at one ledger size.</summary>
internal sealed record EndpointTiming(string Endpoint, int Records, IReadOnlyList<double> Ms, long Bytes, double MulanCpuMs);

/// <summary>How the pilot's usage records were made at one step.</summary>
internal sealed record SeedStep(int Records, int Sent, double Seconds);

/// <summary>
/// The pilot part: a pilot in the default workspace with four virtual keys of its own, three scope items whose acceptance
/// criteria name the evaluation set (so the report judges them from its latest run), and effort entries; then usage
/// records made by chat completions on the pilot's keys (rotating keys, the two pilot routes and real questions), and at
/// 1k, 10k and 100k records the ledger and the report in each format timed, rounds interleaved. Before each step is timed
/// the pilot's own ledger must count exactly the records sent.
/// </summary>
internal sealed class PilotReportTiming(EvaluationsServer server, LoadClient load, IReadOnlyList<string> questions, EvaluationsPlan plan, Progress progress)
{
    public static readonly string[] Endpoints = ["ledger", "report json", "report md", "report html"];
    private readonly List<AuthenticationHeaderValue> _keys = [];
    private int _sent;

    public string PilotId { get; private set; } = "";

    public int ScopeItems { get; private set; }

    public int EffortEntries { get; private set; }

    public async Task SetUpAsync(string setId, DateOnly today, CancellationToken ct)
    {
        var keyIds = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var key = await server.PostAsync("api/keys", new { name = $"pilot-system-{i + 1}" }, ct);
            keyIds.Add(key["id"]!.GetValue<string>());
            _keys.Add(new AuthenticationHeaderValue("Bearer", key["key"]!.GetValue<string>()));
        }

        // A three-month pilot, a month in; the budget so large that no alert fires (an alert is a write, once).
        var pilot = await server.PostAsync("api/pilots", new
        {
            name = "Bench pilot", customer = "Customer Co.", vendor = "Vendor Ltd.",
            contractValue = new { amount = 120_000, currency = "USD" }, budget = new { amount = 1_000_000, currency = "USD" },
            start = today.AddDays(-30).ToString("yyyy-MM-dd"), end = today.AddDays(59).ToString("yyyy-MM-dd"), keys = keyIds,
            alerts = new { thresholds = new[] { 0.5, 0.8, 1.0 } },
        }, ct);
        PilotId = pilot["id"]!.GetValue<string>();
        var items = new List<string>();
        foreach (var (title, priority) in new[] { ("Policy questions", "must"), ("Contract lookup", "should"), ("Meeting notes", "could") })
        {
            var item = await server.PostAsync($"api/pilots/{PilotId}/scope", new
            {
                title, priority, owner = "delivery",
                criteria = new object[]
                {
                    new { metric = "factRecall", threshold = 0.5, set = setId },
                    new { metric = "latencyP95Ms", threshold = 4000, set = setId },
                },
            }, ct);
            items.Add(item["id"]!.GetValue<string>());
        }

        ScopeItems = items.Count;
        string[] roles = ["engineer", "consultant", "project manager"];
        for (var day = 0; day < 24; day++)
        {
            await server.PostAsync($"api/pilots/{PilotId}/effort", new
            {
                scopeItem = items[day % items.Count], role = roles[day % roles.Length], person = $"person {day % 5 + 1}", days = 1,
                dayRate = new { amount = 800 + 100 * (day % 3), currency = "USD" }, date = today.AddDays(-29 + day).ToString("yyyy-MM-dd"),
            }, ct);
        }

        EffortEntries = 24;
    }

    /// <summary>Sends chat completions on the pilot's keys until <paramref name="records"/> were sent, every one answered 200.</summary>
    public async Task<SeedStep> SeedToAsync(int records, CancellationToken ct)
    {
        var bodies = EvaluationsServer.PilotRoutes.Select(r => Apps.AppsServer.Chat(r, questions, false)).ToArray();
        var errors = 0;
        string? firstError = null;
        var count = records - _sent;
        var next = _sent - 1;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, plan.SeedConcurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < records; i = Interlocked.Increment(ref next))
            {
                var body = bodies[i % bodies.Length][i / bodies.Length % questions.Count];
                using var response = await load.PostAsync(server.Mulan.ChatUrl, _keys[i / 2 % _keys.Count], body, HttpCompletionOption.ResponseContentRead, ct);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, $"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}", null);
                }
            }
        }, ct)));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (errors > 0)
        {
            throw new BenchException($"{errors} of {count} pilot requests failed (first: {firstError})");
        }

        _sent = records;
        var counted = (await server.GetAsync($"api/pilots/{PilotId}/ledger", ct))["ledger"]!["requests"]!.GetValue<long>();
        if (counted != records)
        {
            throw new BenchException($"the pilot's ledger counts {counted:N0} requests after {records:N0} were sent on its keys");
        }

        progress.Say($"pilot: {records:N0} usage records ({count:N0} sent in {seconds:0.0} s, {count / seconds:N0}/s)");
        return new SeedStep(records, count, seconds);
    }

    /// <summary>Each endpoint once per round (order rotated), after two unmeasured calls of each.</summary>
    public async Task<IReadOnlyList<EndpointTiming>> TimeAsync(int records, CancellationToken ct)
    {
        var ms = Endpoints.ToDictionary(e => e, _ => new List<double>());
        var bytes = new Dictionary<string, long>();
        var cpu = Endpoints.ToDictionary(e => e, _ => 0.0);
        for (var round = -2; round < plan.ReportRounds; round++)
        {
            var shift = (round + 2) % Endpoints.Length;
            foreach (var endpoint in Endpoints.Skip(shift).Concat(Endpoints.Take(shift)))
            {
                var before = ProcessCpu.Sample(server.Process.Pid);
                var started = Stopwatch.GetTimestamp();
                using var response = await server.Admin.GetAsync(UrlOf(endpoint), HttpCompletionOption.ResponseContentRead, ct);
                var body = await response.Content.ReadAsByteArrayAsync(ct);
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var used = ProcessCpu.Sample(server.Process.Pid).SecondsSince(before);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new BenchException($"GET /{UrlOf(endpoint)} answered {(int)response.StatusCode}");
                }

                if (round >= 0)
                {
                    ms[endpoint].Add(elapsed);
                    cpu[endpoint] += used * 1000;
                    bytes[endpoint] = body.Length;
                }

                if (round == 0 && endpoint == "report json")
                {
                    CheckReport(body, records);
                }
            }
        }

        return [.. Endpoints.Select(e => new EndpointTiming(e, records, ms[e], bytes[e], cpu[e] / ms[e].Count))];
    }

    private string UrlOf(string endpoint) => endpoint switch
    {
        "ledger" => $"api/pilots/{PilotId}/ledger",
        _ => $"api/pilots/{PilotId}/report?format={endpoint["report ".Length..]}",
    };

    /// <summary>The report must be about these records and judge the criteria from a run: else it is not the report a pilot gets.</summary>
    private static void CheckReport(byte[] body, int records)
    {
        var json = JsonNode.Parse(body)!;
        if (json["summary"]?["requests"]?.GetValue<long>() != records)
        {
            throw new BenchException($"the pilot's JSON report counts {json["summary"]?["requests"]} requests, not {records:N0}");
        }

        var criteria = json["acceptance"]!["items"]!.AsArray().SelectMany(i => i!["criteria"]!.AsArray()).ToList();
        if (criteria.Count == 0 || criteria.Any(c => c!["runId"]?.GetValue<string>() is not { Length: > 0 }))
        {
            throw new BenchException("the pilot's JSON report does not judge every criterion from an evaluation run");
        }
    }
}
