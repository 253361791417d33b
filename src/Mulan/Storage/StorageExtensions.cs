using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Apps.Compliance;
using Mulan.Audit;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Knowledge;
using Mulan.Storage.Postgres;

namespace Mulan.Storage;

public static class StorageExtensions
{
    /// <summary>The storage seams: embedded SQLite by default, PostgreSQL when <c>Storage:Postgres</c> is set.</summary>
    public static IServiceCollection AddStorage(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton<SqliteDatabase>();
        services.AddSingleton<PostgresDatabase>();
        services.AddSingleton<IStorageDatabase>(sp => UsesPostgres(sp) ? sp.GetRequiredService<PostgresDatabase>() : sp.GetRequiredService<SqliteDatabase>());
        services.AddSingleton<IAccessStore, AccessStore>();
        services.AddSingleton<ICatalogStore, CatalogStore>();
        services.AddStore<IUsageStore, SqliteUsageStore, PostgresUsageStore>();
        services.AddStore<IKnowledgeStore, SqliteKnowledgeStore, PostgresKnowledgeStore>();
        services.AddSingleton<IAuditStore, AuditStore>();
        services.AddSingleton<Apps.IAppStore, AppStore>();
        services.AddSingleton<IComplianceStore, ComplianceStore>();
        services.AddSingleton<Assistant.Runs.IRunStore, RunStore>();
        services.AddSingleton<Assistant.Tools.IToolStore, ToolStore>();
        services.AddSingleton<Evaluations.IEvaluationStore, EvaluationStore>();
        services.AddSingleton<Pilots.IPilotStore, PilotStore>();
        services.AddSingleton<People.IPeopleStore, PeopleStore>();
        // Other nodes' knowledge changes, into this node's indexes (does nothing on SQLite).
        services.AddHostedService<PostgresKnowledgeSync>();
        return services;
    }

    /// <summary>Registers a seam's two implementations; the configured backend's is created on first use.</summary>
    public static IServiceCollection AddStore<TSeam, TSqlite, TPostgres>(this IServiceCollection services)
        where TSeam : class where TSqlite : class, TSeam where TPostgres : class, TSeam =>
        services.AddSingleton<TSeam>(sp => UsesPostgres(sp) ? ActivatorUtilities.CreateInstance<TPostgres>(sp) : ActivatorUtilities.CreateInstance<TSqlite>(sp));

    private static bool UsesPostgres(IServiceProvider sp) => sp.GetRequiredService<IOptions<StorageOptions>>().Value.UsesPostgres;

    private sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
    {
        public ValidateOptionsResult Validate(string? name, StorageOptions o)
        {
            var errors = new List<string>();
            if (string.IsNullOrWhiteSpace(o.DataDirectory))
            {
                errors.Add($"{StorageOptions.Section}:{nameof(o.DataDirectory)} (--data): must not be empty");
            }
            if (!Enum.IsDefined(o.LedgerSync))
            {
                errors.Add($"{StorageOptions.Section}:{nameof(o.LedgerSync)}: must be Full or Normal");
            }
            if (o.BusyTimeoutMs is < 0 or > 600_000)
            {
                errors.Add($"{StorageOptions.Section}:{nameof(o.BusyTimeoutMs)}: must be between 0 and 600000 (got {o.BusyTimeoutMs})");
            }
            if (o.Postgres is { } pg && !string.IsNullOrWhiteSpace(pg))
            {
                try
                {
                    var parsed = new Npgsql.NpgsqlConnectionStringBuilder(pg);
                    if (string.IsNullOrWhiteSpace(parsed.Host))
                    {
                        errors.Add($"{StorageOptions.Section}:{nameof(o.Postgres)} (--database): names no Host");
                    }
                }
                catch (ArgumentException e)
                {
                    // The parser's message names the bad keyword, never the value.
                    errors.Add($"{StorageOptions.Section}:{nameof(o.Postgres)} (--database): not a PostgreSQL connection string ({e.Message})");
                }
            }
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
