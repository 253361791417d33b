using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Apps.Compliance;
using Mulan.Audit;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Knowledge;

namespace Mulan.Storage;

public static class StorageExtensions
{
    /// <summary>The embedded SQLite backend behind the storage seams.</summary>
    public static IServiceCollection AddStorage(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton<SqliteDatabase>();
        services.AddSingleton<IAccessStore, SqliteAccessStore>();
        services.AddSingleton<ICatalogStore, SqliteCatalogStore>();
        services.AddSingleton<IUsageStore, SqliteUsageStore>();
        services.AddSingleton<IKnowledgeStore, SqliteKnowledgeStore>();
        services.AddSingleton<IAuditStore, SqliteAuditStore>();
        services.AddSingleton<Apps.IAppStore, SqliteAppStore>();
        services.AddSingleton<IComplianceStore, SqliteComplianceStore>();
        services.AddSingleton<Assistant.Runs.IRunStore, SqliteRunStore>();
        services.AddSingleton<Assistant.Tools.IToolStore, SqliteToolStore>();
        services.AddSingleton<Evaluations.IEvaluationStore, SqliteEvaluationStore>();
        services.AddSingleton<Pilots.IPilotStore, SqlitePilotStore>();
        services.AddSingleton<People.IPeopleStore, SqlitePeopleStore>();
        return services;
    }

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
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
