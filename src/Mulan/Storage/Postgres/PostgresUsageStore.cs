using Dapper;
using Npgsql;
using NpgsqlTypes;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;

namespace Mulan.Storage.Postgres;

/// <summary>The usage ledger on PostgreSQL: the same records and rollups as <see cref="SqliteUsageStore"/>.</summary>
public sealed class PostgresUsageStore(PostgresDatabase db, Microsoft.Extensions.Options.IOptions<StorageOptions> options) : IUsageStore
{
    private const string Insert = """
        INSERT INTO usage_records (request_id, at, workspace_id, key_id, endpoint, model, provider, vendor_model, upstream_id,
          input_tokens, cached_tokens, output_tokens, cost_nanos, currency, latency_ms, ttft_ms, status, usage_source, streamed,
          http_status, error, attempts, unserved, reasoning_tokens, price, app_id, app_version, end_user, parent_request_id, run_id, evaluation_run_id, units_milli, unit)
        VALUES (@RequestId, @At, @WorkspaceId, @KeyId, @Endpoint, @Model, @Provider, @VendorModel, @UpstreamId,
          @InputTokens, @CachedTokens, @OutputTokens, @CostNanos, @Currency, @LatencyMs, @TtftMs, @Status, @Source, @Streamed,
          @HttpStatus, @Error, @Attempts, @Unserved, @ReasoningTokens, @Price, @AppId, @AppVersion, @EndUser, @ParentRequestId, @RunId, @EvaluationRunId, @UnitsMilli, @Unit)
        """;

    private const string Filter = """
        WHERE (@KeyId IS NULL OR key_id = @KeyId) AND (@WorkspaceId IS NULL OR workspace_id = @WorkspaceId)
          AND (@Model IS NULL OR model = @Model) AND (@AppId IS NULL OR app_id = @AppId) AND (@RunId IS NULL OR run_id = @RunId) AND (@EvaluationRunId IS NULL OR evaluation_run_id = @EvaluationRunId) AND (@From IS NULL OR at >= @From) AND (@To IS NULL OR at < @To)
        """;

    private const string SelectRecords = """
        SELECT request_id AS RequestId, at AS At, workspace_id AS WorkspaceId, key_id AS KeyId, endpoint AS Endpoint, model AS Model,
          provider AS Provider, vendor_model AS VendorModel, upstream_id AS UpstreamId, input_tokens AS InputTokens,
          cached_tokens AS CachedTokens, output_tokens AS OutputTokens, cost_nanos AS CostNanos, currency AS Currency,
          latency_ms AS LatencyMs, ttft_ms AS TtftMs, status AS Status, usage_source AS Source, streamed AS Streamed,
          http_status AS HttpStatus, error AS Error, attempts AS Attempts, unserved AS Unserved,
          reasoning_tokens AS ReasoningTokens, price AS Price,
          app_id AS AppId, app_version AS AppVersion, end_user AS EndUser, parent_request_id AS ParentRequestId,
          run_id AS RunId, evaluation_run_id AS EvaluationRunId, units_milli AS UnitsMilli, unit AS Unit
        FROM usage_records
        """;

    private static readonly string[] Columns =
    [
        "RequestId", "At", "WorkspaceId", "KeyId", "Endpoint", "Model", "Provider", "VendorModel", "UpstreamId", "InputTokens", "CachedTokens",
        "OutputTokens", "CostNanos", "Currency", "LatencyMs", "TtftMs", "Status", "Source", "Streamed", "HttpStatus", "Error",
        "Attempts", "Unserved", "ReasoningTokens", "Price", "AppId", "AppVersion", "EndUser", "ParentRequestId", "RunId", "EvaluationRunId", "UnitsMilli", "Unit",
    ];

    // The insert with positional parameters, typed so that PostgreSQL never has to guess a null's type.
    private static readonly string PositionalInsert = Columns.Select((name, i) => (name, i)).Aggregate(Insert, (sql, p) => sql.Replace("@" + p.name + ",", $"${p.i + 1},")
        .Replace("@" + p.name + ")", $"${p.i + 1})"));

    private static readonly NpgsqlDbType[] Types =
    [
        NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text,
        NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Text,
        NpgsqlDbType.Double, NpgsqlDbType.Double, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Text,
        NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Text,
        NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Text,
    ];

    /// <summary>One batch, one transaction, one round trip: the group-commit loop's records are durable together or not at all.</summary>
    public async Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await using var batch = new NpgsqlBatch(c, tx);
        if (options.Value.LedgerSync == LedgerSync.Normal)
        {
            // The commit returns once it is in the server's WAL buffers; the server writes them out within a few hundred ms.
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL synchronous_commit = off"));
        }
        foreach (var r in records)
        {
            var command = new NpgsqlBatchCommand(PositionalInsert);
            var values = Values(r);
            for (var i = 0; i < values.Length; i++)
            {
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = Types[i], Value = values[i] });
            }
            batch.BatchCommands.Add(command);
        }
        await batch.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
    }

    private static readonly System.Text.Json.JsonSerializerOptions UnservedJson = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private static object[] Values(UsageRecord r) =>
    [
        r.RequestId, r.At.ToUnixTimeMilliseconds(), r.WorkspaceId, r.KeyId, r.Endpoint, r.Model, (object?)r.Provider ?? DBNull.Value,
        (object?)r.VendorModel ?? DBNull.Value, (object?)r.UpstreamId ?? DBNull.Value, r.InputTokens, r.CachedTokens, r.OutputTokens,
        Cost.ToNanos(r.Cost), (object?)r.Currency?.ToString() ?? DBNull.Value, r.LatencyMs, (object?)r.TimeToFirstTokenMs ?? DBNull.Value,
        UsageNames.Of(r.Status), UsageNames.Of(r.Source), r.Streamed ? 1L : 0L, (long)r.HttpStatus, (object?)r.Error ?? DBNull.Value,
        (long)r.Attempts, r.Unserved.Count == 0 ? DBNull.Value : System.Text.Json.JsonSerializer.Serialize(r.Unserved, UnservedJson),
        r.ReasoningTokens, r.Price is null ? DBNull.Value : System.Text.Json.JsonSerializer.Serialize(r.Price, UnservedJson),
        (object?)r.AppId ?? DBNull.Value, r.AppVersion is { } v ? (long)v : DBNull.Value, (object?)r.EndUser ?? DBNull.Value, (object?)r.ParentRequestId ?? DBNull.Value,
        (object?)r.RunId ?? DBNull.Value, (object?)r.EvaluationRunId ?? DBNull.Value,
        (long)Math.Round(r.Units * 1000m, MidpointRounding.ToEven), r.Unit is { } unit ? ModelKinds.Name(unit) : DBNull.Value,
    ];

    public async Task<UsagePage> QueryAsync(UsageQuery q, CancellationToken ct)
    {
        var args = new
        {
            q.KeyId, q.WorkspaceId, q.Model, q.AppId, q.RunId, q.EvaluationRunId,
            From = q.From?.ToUnixTimeMilliseconds(), To = q.To?.ToUnixTimeMilliseconds(),
            Limit = q.PageSize, Offset = (long)(q.Page - 1) * q.PageSize,
        };
        await using var c = await db.OpenAsync(ct);
        var totals = await c.QueryAsync<(string? Currency, long Requests, long Input, long Cached, long Output, long Nanos)>(
            $"""
            SELECT currency, COUNT(*), COALESCE(SUM(input_tokens),0)::bigint, COALESCE(SUM(cached_tokens)::bigint,0), COALESCE(SUM(output_tokens)::bigint,0),
              COALESCE(SUM(cost_nanos)::bigint,0)
            FROM usage_records {Filter} GROUP BY currency ORDER BY COUNT(*) DESC, currency NULLS FIRST
            """, args);
        var rows = await c.QueryAsync<Row>(
            $"""
            {SelectRecords} {Filter} ORDER BY at DESC, request_id LIMIT @Limit OFFSET @Offset
            """, args);
        var totalList = totals.Select(t => new UsageTotal(t.Currency, t.Requests, t.Input, t.Cached, t.Output, Cost.FromNanos(t.Nanos))).ToList();
        return new UsagePage(totalList, totalList.Sum(t => t.Requests), [.. rows.Select(r => r.ToModel())]);
    }

    // One catch-up at a time: the background pass and summaries read concurrently would otherwise wait on each other's lock.
    private readonly SemaphoreSlim _rollupGate = new(1, 1);

    public async Task<long> RollUpAsync(CancellationToken ct)
    {
        await _rollupGate.WaitAsync(ct);
        try
        {
            await using var c = await db.OpenAsync(ct);
            return await PostgresUsageRollup.CatchUpAsync(c, ct);
        }
        finally
        {
            _rollupGate.Release();
        }
    }

    public async Task<IReadOnlyList<UsageSummaryRow>> SummarizeAsync(UsageSummaryQuery q, CancellationToken ct)
    {
        await RollUpAsync(ct);
        var group = q.By switch
        {
            UsageGrouping.Provider => "provider",
            UsageGrouping.Model => "model",
            UsageGrouping.App => "app_id",
            UsageGrouping.Key => "key_id",
            _ => "CAST(hour AS text)",
        };
        await using var c = await db.OpenAsync(ct);
        // The hour range comes first so that SQLite walks the primary key (one workspace) or the hour index (all).
        var rows = await c.QueryAsync<(string Group, string Currency, long Requests, long Errors, long Input, long Output, long Nanos)>(new CommandDefinition($"""
            SELECT {group}, currency, SUM(requests)::bigint, SUM(errors)::bigint, SUM(input_tokens)::bigint, SUM(output_tokens)::bigint, SUM(cost_nanos)::bigint
            FROM usage_hourly
            WHERE hour >= @From AND hour < @To AND (@WorkspaceId IS NULL OR workspace_id = @WorkspaceId)
            GROUP BY 1, 2 ORDER BY 1, 2
            """, new { From = q.FromHour, To = q.ToHour, q.WorkspaceId }, cancellationToken: ct));
        return [.. rows.Select(r => new UsageSummaryRow(r.Group, r.Currency, r.Requests, r.Errors, r.Input, r.Output, Cost.FromNanos(r.Nanos)))];
    }

    public async Task<IReadOnlyList<LatencyCount>> LatencyAsync(UsageSummaryQuery q, bool perHour, CancellationToken ct)
    {
        await RollUpAsync(ct);
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<(long? Hour, long Bucket, long Requests)>(new CommandDefinition(perHour
            ? "SELECT hour, bucket, SUM(requests)::bigint FROM usage_latency_hourly WHERE hour >= @From AND hour < @To AND (@WorkspaceId IS NULL OR workspace_id = @WorkspaceId) GROUP BY 1, 2"
            : "SELECT NULL::bigint, bucket, SUM(requests)::bigint FROM usage_latency_hourly WHERE hour >= @From AND hour < @To AND (@WorkspaceId IS NULL OR workspace_id = @WorkspaceId) GROUP BY 2",
            new { From = q.FromHour, To = q.ToHour, q.WorkspaceId }, cancellationToken: ct));
        return [.. rows.Select(r => new LatencyCount(r.Hour, (int)r.Bucket, r.Requests))];
    }

    public async IAsyncEnumerable<UsageRecord> ExportAsync(UsageQuery q, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var args = new
        {
            q.KeyId, q.WorkspaceId, q.Model, q.AppId, q.RunId, q.EvaluationRunId,
            From = q.From?.ToUnixTimeMilliseconds(), To = q.To?.ToUnixTimeMilliseconds(),
        };
        await using var c = await db.OpenAsync(ct);
        // Unbuffered: a million-row export is read row by row as the response is written, never held in memory.
        await foreach (var row in c.QueryUnbufferedAsync<Row>($"{SelectRecords} {Filter} ORDER BY at DESC, request_id", args).WithCancellation(ct))
        {
            yield return row.ToModel();
        }
    }

    // What a vendor bills: a completed request (ok); one the client abandoned or the upstream broke off after it had
    // read the prompt or generated text (client_aborted / upstream_error with tokens: the vendor did the work and
    // charges for it). The same statuses without tokens never reached the vendor or were refused by it (connection
    // refused, 429, 5xx before any output), and rejected requests were stopped by Mulan: no vendor charges for those,
    // so they are left out, or they would inflate the request count of an otherwise matching day.
    // The range on `at` comes first so that SQLite walks the usage_at index.
    private const string BilledDays = """
        SELECT at / 86400000 AS Day, vendor_model AS VendorModel, currency AS Currency, COUNT(*) AS Requests,
          SUM(input_tokens)::bigint AS InputTokens, SUM(cached_tokens)::bigint AS CachedTokens, SUM(output_tokens)::bigint AS OutputTokens, SUM(cost_nanos)::bigint AS Nanos
        FROM usage_records
        WHERE at >= @From AND at < @To AND provider = @Provider AND vendor_model IS NOT NULL AND currency IS NOT NULL
          AND (status = 'ok' OR (status IN ('client_aborted', 'upstream_error') AND input_tokens + output_tokens > 0))
        GROUP BY Day, vendor_model, currency
        ORDER BY Day, vendor_model, currency
        """;

    private const long DayMs = 86_400_000;

    // NULLS FIRST wherever a nullable column is sorted: SQLite puts NULL first, PostgreSQL last, and the lists must be the same.

    private const string AttributedSpendByRecord = """
        SELECT at / 86400000, model, provider, vendor_model, app_id, currency, COUNT(*), COALESCE(SUM(cost_nanos)::bigint, 0)
        FROM usage_records
        WHERE at >= @From AND at < @To AND workspace_id = @WorkspaceId AND (app_id = ANY(@AppIds) OR key_id = ANY(@KeyIds) OR evaluation_run_id = ANY(@RunIds))
        GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3 NULLS FIRST, 4 NULLS FIRST, 5 NULLS FIRST, 6 NULLS FIRST
        """;

    private const string AttributedSpendByDay = """
        SELECT day, model, NULLIF(provider, ''), NULLIF(vendor_model, ''), NULLIF(app_id, ''), NULLIF(currency, ''), SUM(requests)::bigint, SUM(cost_nanos)::bigint
        FROM usage_daily
        WHERE workspace_id = @WorkspaceId AND day >= @FromDay AND day < @ToDay AND (app_id = ANY(@AppIds) OR key_id = ANY(@KeyIds) OR evaluation_run_id = ANY(@RunIds))
        GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3 NULLS FIRST, 4 NULLS FIRST, 5 NULLS FIRST, 6 NULLS FIRST
        """;

    public async Task<IReadOnlyList<AttributedSpend>> AttributedSpendAsync(string workspaceId, IReadOnlyCollection<string> appIds,
        IReadOnlyCollection<string> keyIds, IReadOnlyCollection<string> evaluationRunIds, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        if (appIds.Count == 0 && keyIds.Count == 0 && evaluationRunIds.Count == 0)
        {
            return [];
        }
        await using var c = await db.OpenAsync(ct);
        var (fromMs, toMs) = (from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds());
        var parameters = new { WorkspaceId = workspaceId, AppIds = appIds.ToArray(), KeyIds = keyIds.ToArray(), RunIds = evaluationRunIds.ToArray(), From = fromMs, To = toMs, FromDay = fromMs / DayMs, ToDay = toMs / DayMs };
        // Whole UTC days (a pilot's period) are read from the daily rollup, a row per day, key, app and model; any other
        // window from the records themselves. Both give the same sums: the rollup is kept in each insert's statement.
        var wholeDays = fromMs % DayMs == 0 && toMs % DayMs == 0;
        var rows = await c.QueryAsync<(long Day, string Model, string? Provider, string? VendorModel, string? AppId, string? Currency, long Requests, long Nanos)>(
            new CommandDefinition(wholeDays ? AttributedSpendByDay : AttributedSpendByRecord, parameters, cancellationToken: ct));
        return [.. rows.Select(r => new AttributedSpend(DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + (int)r.Day),
            r.Model, r.Provider, r.VendorModel, r.AppId, r.Currency, r.Requests, Cost.FromNanos(r.Nanos)))];
    }

    public async Task<IReadOnlyList<BilledDay>> BilledDaysAsync(string provider, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<(long Day, string VendorModel, string Currency, long Requests, long InputTokens, long CachedTokens,
            long OutputTokens, long Nanos)>(
            new CommandDefinition(BilledDays, new { Provider = provider, From = from.ToUnixTimeMilliseconds(), To = to.ToUnixTimeMilliseconds() },
                cancellationToken: ct));
        return [.. rows.Select(r => new BilledDay(DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + (int)r.Day),
            r.VendorModel, Enum.Parse<Currency>(r.Currency), r.Requests, r.InputTokens, r.CachedTokens, r.OutputTokens, Cost.FromNanos(r.Nanos)))];
    }

    private sealed class Row
    {
        public string RequestId { get; init; } = "";
        public long At { get; init; }
        public string WorkspaceId { get; init; } = "";
        public string KeyId { get; init; } = "";
        public string Endpoint { get; init; } = "";
        public string Model { get; init; } = "";
        public string? Provider { get; init; }
        public string? VendorModel { get; init; }
        public string? UpstreamId { get; init; }
        public long InputTokens { get; init; }
        public long CachedTokens { get; init; }
        public long OutputTokens { get; init; }
        public long CostNanos { get; init; }
        public string? Currency { get; init; }
        public double LatencyMs { get; init; }
        public double? TtftMs { get; init; }
        public string Status { get; init; } = "";
        public string Source { get; init; } = "";
        public long Streamed { get; init; }
        public long HttpStatus { get; init; }
        public string? Error { get; init; }
        public long Attempts { get; init; }
        public string? Unserved { get; init; }
        public long ReasoningTokens { get; init; }
        public string? Price { get; init; }
        public string? AppId { get; init; }
        public long? AppVersion { get; init; }
        public string? EndUser { get; init; }
        public string? ParentRequestId { get; init; }
        public string? RunId { get; init; }
        public string? EvaluationRunId { get; init; }
        public long UnitsMilli { get; init; }
        public string? Unit { get; init; }

        public UsageRecord ToModel() => new()
        {
            RequestId = RequestId, At = DateTimeOffset.FromUnixTimeMilliseconds(At), WorkspaceId = WorkspaceId, KeyId = KeyId,
            Endpoint = Endpoint, Model = Model, Provider = Provider, VendorModel = VendorModel, UpstreamId = UpstreamId,
            InputTokens = InputTokens, CachedTokens = CachedTokens, OutputTokens = OutputTokens, Cost = Cost.FromNanos(CostNanos),
            Currency = Currency is null ? null : Enum.Parse<Currency>(Currency), LatencyMs = LatencyMs, TimeToFirstTokenMs = TtftMs,
            Status = Status switch
            {
                "ok" => UsageStatus.Ok,
                "client_aborted" => UsageStatus.ClientAborted,
                "upstream_error" => UsageStatus.UpstreamError,
                "cached" => UsageStatus.Cached,
                _ => UsageStatus.Rejected,
            },
            Source = Source switch { "reported" => UsageSource.Reported, "estimated" => UsageSource.Estimated, _ => UsageSource.None },
            Streamed = Streamed != 0, HttpStatus = (int)HttpStatus, Error = Error, Attempts = (int)Attempts,
            Unserved = Unserved is null ? [] : System.Text.Json.JsonSerializer.Deserialize<List<UnservedAttempt>>(Unserved, UnservedJson) ?? [],
            ReasoningTokens = ReasoningTokens,
            Price = Price is null ? null : System.Text.Json.JsonSerializer.Deserialize<Price>(Price, UnservedJson),
            AppId = AppId, AppVersion = AppVersion is { } v ? (int)v : null, EndUser = EndUser, ParentRequestId = ParentRequestId, RunId = RunId, EvaluationRunId = EvaluationRunId,
            Units = Cost.Normalize(UnitsMilli / 1000m), Unit = ModelKinds.ParseUnit(Unit),
        };
    }
}
