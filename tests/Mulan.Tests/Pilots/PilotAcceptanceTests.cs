using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Evaluations;
using Mulan.Pilots;
using Mulan.Tests.Evaluations;
using Mulan.Tests.Support;

namespace Mulan.Tests.Pilots;

/// <summary>Acceptance judged from evaluation runs: the latest run of the set, read once per set and app for a report.</summary>
public sealed class PilotAcceptanceTests
{
    [Fact]
    public async Task Every_criterion_is_judged_from_the_latest_of_several_runs_of_its_set()
    {
        await using var host = await MulanHost.StartAsync();
        var setId = await EvaluationRunTests.CreateSetAsync(host.Admin, [new { question = "How many days of leave?", expectedFacts = new[] { "15" } }, new { question = "Who approves?" }]);
        var runs = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var started = await EvaluationRunTests.StartAsync(host.Admin, new { set = setId, target = new { model = "chat" }, concurrency = 1 });
            var run = await EvaluationRunTests.WaitAsync(host.Admin, started["id"]!.GetValue<string>());
            Assert.Equal("succeeded", run["status"]!.GetValue<string>());
            runs.Add(run["id"]!.GetValue<string>());
        }

        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        using var created = await host.Admin.PostAsJsonAsync("api/pilots", new { name = "p", customer = "c", contractValue = new { amount = 1000, currency = "USD" }, start = today, end = today });
        var pilotId = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        foreach (var title in new[] { "FAQ", "Lookup" })
        {
            using var item = await host.Admin.PostAsJsonAsync($"api/pilots/{pilotId}/scope", new
            {
                title, priority = "must",
                criteria = new object[] { new { metric = "latencyP95Ms", threshold = 600_000, set = setId }, new { metric = "factRecall", threshold = 0, set = setId } },
            });
            Assert.True(item.IsSuccessStatusCode, await item.Content.ReadAsStringAsync());
        }

        var report = (await host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilotId}/report?format=json"))!;
        var criteria = report["acceptance"]!["items"]!.AsArray().SelectMany(i => i!["criteria"]!.AsArray()).ToList();
        Assert.Equal(4, criteria.Count);
        Assert.All(criteria, c => Assert.Equal((runs[^1], "passed"), (c!["runId"]!.GetValue<string>(), c["status"]!.GetValue<string>())));
    }

    [Fact]
    public async Task Criteria_sharing_a_set_and_an_app_read_its_latest_run_once_and_each_app_gets_its_own_run()
    {
        var results = new CountingResults();
        var c = new Criterion(EvaluationMetrics.FactRecall, 0.5, "set_1");
        var scope = new[]
        {
            new ScopeItem("s1", "FAQ", null, "must", null, "app_a", [c, c with { Metric = EvaluationMetrics.LatencyP95Ms, Threshold = 1000 }]),
            new ScopeItem("s2", "FAQ again", null, "should", null, "app_a", [c]),
            new ScopeItem("s3", "Lookup", null, "must", null, "app_b", [c]),
        };

        var judged = await Acceptance.EvaluateAsync("ws_1", scope, results, CancellationToken.None);

        Assert.Equal(["set_1/app_a", "set_1/app_b"], results.Calls);
        Assert.Equal(["run_app_a", "run_app_a", "run_app_a", "run_app_b"], judged.SelectMany(i => i.Criteria).Select(r => r.RunId));
        Assert.Equal([AcceptanceStatuses.Passed, AcceptanceStatuses.Passed, AcceptanceStatuses.Failed], judged.Select(i => i.Status));
    }

    /// <summary>Outcomes by app (app_b's fact recall below the threshold), and every call recorded.</summary>
    private sealed class CountingResults : IEvaluationResults
    {
        public List<string> Calls { get; } = [];

        public Task<EvaluationOutcome?> LatestAsync(string workspaceId, string setId, string? appId, CancellationToken ct)
        {
            Calls.Add($"{setId}/{appId}");
            return Task.FromResult<EvaluationOutcome?>(new EvaluationOutcome("run_" + appId, setId, 1, appId, null, null, "succeeded", DateTimeOffset.UnixEpoch,
                new Dictionary<string, double?> { [EvaluationMetrics.FactRecall] = appId == "app_b" ? 0.2 : 0.9, [EvaluationMetrics.LatencyP95Ms] = 500 }, 0m, "USD", 1));
        }

        public Task<IReadOnlyList<EvaluationOutcome>> OfSetAsync(string workspaceId, string setId, CancellationToken ct) =>
            throw new NotSupportedException("acceptance reads the latest run only");

        public Task<bool> SetExistsAsync(string workspaceId, string setId, CancellationToken ct) => Task.FromResult(true);

        public Task<(Bakeoff.Table Table, IReadOnlyList<string> Missing)> BakeoffAsync(string workspaceId, IReadOnlyList<string> runIds,
            IReadOnlyDictionary<string, double> weights, CancellationToken ct) => throw new NotSupportedException("acceptance reads no bake-off");
    }
}
