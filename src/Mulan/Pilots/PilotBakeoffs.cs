using System.Globalization;
using System.Text.Json.Nodes;
using Mulan.Access;
using Mulan.Audit;
using Mulan.Evaluations;
using Mulan.Hosting.Problems;
using Mulan.Knowledge;

namespace Mulan.Pilots;

/// <summary>A bake-off as the pilot's ledger and report show it: the table computed from its runs now, and the runs no longer there.</summary>
public sealed record BakeoffResult(PilotBakeoff Bakeoff, Bakeoff.Table Table, IReadOnlyList<string> Missing);

/// <summary>
/// <c>/api/pilots/{id}/bakeoffs</c>: the evaluation runs a pilot compares side by side. A bake-off names runs, not
/// numbers: its table is ranked from the runs' stored results whenever it is read, and the usage records of its runs
/// count in the pilot's spend (a bake-off of routes no scope item is bound to is still work done for the pilot).
/// </summary>
public static class PilotBakeoffs
{
    public const int MaxRuns = 20;

    public static void MapPilotBakeoffs(this RouteGroupBuilder g)
    {
        g.MapPost("/{id}/bakeoffs", AddAsync).WithName("AddPilotBakeoff").RequireAccess(WorkspaceRole.Admin).WithSummary("Compare evaluation runs side by side in the pilot's report.");
        g.MapGet("/{id}/bakeoffs", ListAsync).WithName("ListPilotBakeoffs").RequireAccess(WorkspaceRole.Viewer);
        g.MapDelete("/{id}/bakeoffs/{bakeoffId}", DeleteAsync).WithName("DeletePilotBakeoff").RequireAccess(WorkspaceRole.Admin);
    }

    /// <summary>Every bake-off of the pilot with its table; empty when this server has no evaluations.</summary>
    public static async Task<IReadOnlyList<BakeoffResult>> ResultsAsync(Pilot pilot, IPilotStore store, IEvaluationResults? evaluations, CancellationToken ct)
    {
        if (evaluations is null)
        {
            return [];
        }
        var results = new List<BakeoffResult>();
        foreach (var b in await store.BakeoffsAsync(pilot.Id, ct))
        {
            var (table, missing) = await evaluations.BakeoffAsync(pilot.WorkspaceId, b.Runs, b.Weights, ct);
            results.Add(new BakeoffResult(b, table, missing));
        }
        return results;
    }

    /// <summary>How a run's target reads in a table: the app, the model route, or the knowledge base and its answering route.</summary>
    public static string TargetLabel(EvaluationTarget t) =>
        t.App is { } app ? "app " + app
        : t.KnowledgeBase is { } kb ? "kb " + kb + (t.Model is { } m ? " + " + m : "")
        : t.Model ?? "";

    private static async Task<IResult> AddAsync(string id, HttpContext ctx, IPilotStore store, PilotService svc, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        if (await PilotEndpoints.FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return PilotEndpoints.NotFound(id);
        }
        var (body, problem) = await JsonBody.ReadObjectAsync(ctx.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        PilotInput.Only(body!, errors, "$", "title", "runs", "weights");
        var title = PilotInput.Text(body!, "title", "$", errors, true);
        var runs = PilotInput.Strings(body!, "runs", "$", errors, MaxRuns);
        if (runs is null or { Count: 0 } && !errors.ContainsKey("$.runs"))
        {
            errors.AddError("$.runs", $"required: 1 to {MaxRuns} evaluation run ids");
        }
        var weights = Weights(body!, errors);
        Bakeoff.Table? table = null;
        if (svc.Evaluations is not { } evaluations)
        {
            errors.AddError("$.runs", "evaluations are not available on this server");
        }
        else if (errors.Count == 0)
        {
            (table, var missing) = await evaluations.BakeoffAsync(pilot.WorkspaceId, runs!, weights, ct);
            for (var i = 0; i < runs!.Count; i++)
            {
                if (missing.Contains(runs[i]))
                {
                    errors.AddError($"$.runs[{i}]", "no evaluation run with this id in the pilot's workspace");
                }
            }
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var bakeoff = new PilotBakeoff(KeyMaterial.NewId("bko"), pilot.Id, title!, runs!, weights, time.GetUtcNow());
        await store.AddBakeoffAsync(bakeoff, ct);
        await audit.RecordAsync(new AuditEntry(Caller.Of(ctx).Actor, PilotEndpoints.Actions.BakeoffAdded, "pilot", pilot.Id, pilot.WorkspaceId,
            new JsonObject { ["bakeoff"] = bakeoff.Id, ["title"] = bakeoff.Title, ["runs"] = new JsonArray([.. bakeoff.Runs.Select(r => (JsonNode)r)]) }));
        return TypedResults.Json(View(new BakeoffResult(bakeoff, table!, [])), statusCode: 201);
    }

    /// <summary><c>weights</c>: an object of metric → weight (0 to 1000, at least one positive); the bake-off's defaults when absent.</summary>
    private static Dictionary<string, double> Weights(JsonObject body, Dictionary<string, string[]> errors)
    {
        if (body["weights"] is null)
        {
            return new(Bakeoff.DefaultWeights, StringComparer.Ordinal);
        }
        if (body["weights"] is not JsonObject o || o.Count == 0)
        {
            errors.AddError("$.weights", "must be an object of metric: weight");
            return [];
        }
        // The same rules as the bake-off endpoint's weights=metric:weight list, so both refuse alike.
        var text = string.Join(",", o.Select(p => p.Key + ":" + (p.Value is JsonValue v && v.TryGetValue<double>(out var w) ? w.ToString("R", CultureInfo.InvariantCulture) : "x")));
        var parsed = new Dictionary<string, string[]>();
        var weights = Bakeoff.ParseWeights(text, parsed);
        foreach (var (_, messages) in parsed)
        {
            errors["$.weights"] = messages;
        }
        return weights;
    }

    private static async Task<IResult> ListAsync(string id, HttpContext ctx, IPilotStore store, PilotService svc, CancellationToken ct)
    {
        if (await PilotEndpoints.FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return PilotEndpoints.NotFound(id);
        }
        return TypedResults.Ok(new { bakeoffs = (await ResultsAsync(pilot, store, svc.Evaluations, ct)).Select(View) });
    }

    private static async Task<IResult> DeleteAsync(string id, string bakeoffId, HttpContext ctx, IPilotStore store, AuditLog audit, CancellationToken ct)
    {
        if (await PilotEndpoints.FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return PilotEndpoints.NotFound(id);
        }
        if (!await store.DeleteBakeoffAsync(id, bakeoffId, ct))
        {
            return TypedResults.Problem(statusCode: 404, detail: $"Pilot '{id}' has no bake-off '{bakeoffId}'.");
        }
        await audit.RecordAsync(new AuditEntry(Caller.Of(ctx).Actor, PilotEndpoints.Actions.BakeoffDeleted, "pilot", id, pilot.WorkspaceId,
            new JsonObject { ["bakeoff"] = bakeoffId }));
        return TypedResults.NoContent();
    }

    public static object View(BakeoffResult r) => new
    {
        id = r.Bakeoff.Id, title = r.Bakeoff.Title, runs = r.Bakeoff.Runs, weights = r.Table.Weights, rows = r.Table.Rows, missing = r.Missing,
        createdAt = r.Bakeoff.CreatedAt,
    };
}
