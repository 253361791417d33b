using Mulan.Evaluations;
using Mulan.Pilots;

namespace Mulan.Tests.Pilots;

public sealed class AcceptanceTests
{
    private static EvaluationOutcome Run(string metric, double? value) => new("run_1", "set_1", 1, null, null, null, "succeeded", DateTimeOffset.UnixEpoch,
        new Dictionary<string, double?> { [metric] = value }, 0.5m, "USD", 10);

    [Fact]
    public void A_minimum_metric_passes_at_the_threshold_and_fails_below()
    {
        var c = new Criterion(EvaluationMetrics.FactRecall, 0.8, "set_1");
        var pass = Acceptance.Judge(c, Run(EvaluationMetrics.FactRecall, 0.8));
        Assert.Equal((AcceptanceStatuses.Passed, "min", "run_1", 0.8), (pass.Status, pass.Direction, pass.RunId, pass.Value!.Value));
        Assert.Equal(AcceptanceStatuses.Failed, Acceptance.Judge(c, Run(EvaluationMetrics.FactRecall, 0.79)).Status);
    }

    [Fact]
    public void Latency_is_a_maximum_and_a_missing_run_or_value_is_not_a_pass()
    {
        var c = new Criterion(EvaluationMetrics.LatencyP95Ms, 1000, "set_1");
        Assert.Equal(AcceptanceStatuses.Passed, Acceptance.Judge(c, Run(EvaluationMetrics.LatencyP95Ms, 900)).Status);
        Assert.Equal(AcceptanceStatuses.Failed, Acceptance.Judge(c, Run(EvaluationMetrics.LatencyP95Ms, 1001)).Status);
        Assert.Equal(AcceptanceStatuses.NotEvaluated, Acceptance.Judge(c, null).Status);
        Assert.Equal(AcceptanceStatuses.NotMeasured, Acceptance.Judge(c, Run(EvaluationMetrics.LatencyP95Ms, null)).Status);
        var item = new ScopeItem("s1", "FAQ", null, "must", null, null, [c, c]);
        Assert.Equal(AcceptanceStatuses.NotEvaluated, Acceptance.Item(item, [Acceptance.Judge(c, Run(EvaluationMetrics.LatencyP95Ms, 900)), Acceptance.Judge(c, null)]).Status);
        Assert.Equal(AcceptanceStatuses.Failed, Acceptance.Item(item, [Acceptance.Judge(c, Run(EvaluationMetrics.LatencyP95Ms, 1001)), Acceptance.Judge(c, null)]).Status);
    }
}
