using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Apps;
using Mulan.Apps.Compliance;
using Mulan.Apps.Packages;
using Mulan.Apps.Templates;
using Mulan.Assistant;
using Mulan.Audit;
using Mulan.Backup;
using Mulan.Cluster;
using Mulan.Console;
using Mulan.Console.Chat;
using Mulan.Evaluations;
using Mulan.Gateway;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Gateway.Probing;
using Mulan.Gateway.Routing;
using Mulan.Governance;
using Mulan.Governance.Currencies;
using Mulan.Governance.Reconciliation;
using Mulan.Hosting.Problems;
using Mulan.Knowledge;
using Mulan.Outbound;
using Mulan.People;
using Mulan.Pilots;
using Mulan.Speech;
using Mulan.Storage;
using Mulan.Telemetry;

namespace Mulan.Hosting;

/// <summary>The server's table of contents: what it is made of and what it maps.</summary>
public static class MulanServer
{
    public static WebApplication Build(ServeArguments arguments, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddEnvironmentVariables("MULAN_");
        if (arguments.ConfigFile is not null)
        {
            // The same file carries providers/models and, optionally, the Gateway and Storage sections.
            builder.Configuration.AddJsonFile(Path.GetFullPath(arguments.ConfigFile), optional: false, reloadOnChange: false);
        }
        var data = arguments.DataDirectory ?? Environment.GetEnvironmentVariable("MULAN_DATA");
        if (data is not null)
        {
            builder.Configuration[$"{StorageOptions.Section}:{nameof(StorageOptions.DataDirectory)}"] = data;
        }
        if (arguments.Database is not null)
        {
            builder.Configuration[$"{StorageOptions.Section}:{nameof(StorageOptions.Postgres)}"] = arguments.Database;
        }
        builder.WebHost.UseUrls(arguments.Urls);
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // The start-up summary says where the server listens and what it loaded.
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // A start that fails (e.g. the port is taken) is reported once, plainly, with exit code 2; the host would
        // otherwise log the same failure with its stack trace. A background service that stops the host still logs.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddApiProblems();
        builder.Services.AddStorage();
        builder.Services.AddSingleton<DataFolderHold>();
        builder.Services.AddDataProtection().SetApplicationName("mulan");
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IOptions<StorageOptions>>((o, storage) =>
            o.XmlRepository = new Microsoft.AspNetCore.DataProtection.Repositories.FileSystemXmlRepository(
                new DirectoryInfo(Path.Combine(Path.GetFullPath(storage.Value.DataDirectory), "keys")), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        builder.Services.AddCluster();
        builder.Services.AddAccess();
        builder.Services.AddPeople();
        builder.Services.AddAudit();
        builder.Services.AddGateway();
        builder.Services.AddGovernance();
        builder.Services.AddOutbound();
        builder.Services.AddKnowledge();
        builder.Services.AddApps();
        builder.Services.AddAppPackages();
        builder.Services.AddCompliance();
        builder.Services.AddAssistant();
        builder.Services.AddEvaluations();
        builder.Services.AddPilots();
        builder.Services.AddSpeech();
        builder.Services.AddApiReference();
        builder.Services.AddConsole();
        builder.Services.AddChatPage();
        configure?.Invoke(builder);
        // Last: which exporters run follows from the finished configuration.
        builder.AddTelemetry();

        var app = builder.Build();
        app.UseApiProblems();
        app.UseApiAccess();
        app.UseOutputCache();
        app.MapGet("/healthz", HealthAsync).WithName("Health").WithSummary("200 when storage is reachable.");
        app.MapTelemetry();
        app.MapApiReference();
        app.MapGateway();
        app.MapSpeech();
        var api = app.MapGroup("/api").RequireAdminKey().RequireInstanceAdmin().WithMetadata(new RequestSizeLimitAttribute(1024 * 1024));
        api.MapAccess();
        api.MapCatalog();
        api.MapModelProbe();
        api.MapRouting();
        api.MapUsage();
        api.MapUsageSummary();
        api.MapAudit();
        api.MapReconciliation();
        api.MapExchangeRates();
        // Read by the administrator or by the workspace's own keys.
        app.MapWorkspaceScope().MapWorkspaceUsage().MapWorkspaceUsageSummary().MapWorkspaceAudit().MapWorkspaceLimits().MapWorkspaceExport();
        app.MapKnowledge();
        app.MapAppTemplates();
        app.MapApps();
        app.MapAppPackages();
        app.MapCompliance();
        app.MapAssistant();
        app.MapEvaluations();
        app.MapPilotsApi();
        app.MapPeople();
        app.MapChatPage();
        app.MapConsole();
        return app;
    }

    /// <summary>Prepares storage, the bootstrap admin key and the catalog. Throws <see cref="StartupException"/> for user errors.</summary>
    public static async Task InitializeAsync(WebApplication app, ServeArguments arguments, CatalogFile file,
        Func<string, string?>? environment = null, CancellationToken ct = default)
    {
        var env = environment ?? Environment.GetEnvironmentVariable;
        var services = app.Services;
        try
        {
            _ = services.GetRequiredService<IOptions<StorageOptions>>().Value;
            _ = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
            _ = services.GetRequiredService<IOptions<OutboundOptions>>().Value;
            _ = services.GetRequiredService<IOptions<PeopleOptions>>().Value;
            _ = services.GetRequiredService<IOptions<Telemetry.TelemetryOptions>>().Value;
        }
        catch (OptionsValidationException e)
        {
            throw new StartupException(string.Join(Environment.NewLine, e.Failures));
        }
        catch (InvalidOperationException e) when (e.Message.Contains("configuration value", StringComparison.Ordinal))
        {
            throw new StartupException(e.Message);
        }
        await services.GetRequiredService<IStorageDatabase>().InitializeAsync(ct);
        // Held until the host is disposed: mulan restore refuses the folder while it is held.
        services.GetRequiredService<DataFolderHold>().Take(Path.GetFullPath(services.GetRequiredService<IOptions<StorageOptions>>().Value.DataDirectory));
        await services.GetRequiredService<AccessService>().InitializeAsync(ct);
        await services.GetRequiredService<AdminKey>().InitializeAsync(env(AdminKey.EnvironmentVariable), ct);
        try
        {
            _ = services.GetRequiredService<IOptions<KnowledgeOptions>>().Value;
        }
        catch (OptionsValidationException e)
        {
            throw new StartupException(string.Join(Environment.NewLine, e.Failures));
        }
        await services.InitializeKnowledgeAsync(ct);
        await services.InitializeAppsAsync(ct);
        try
        {
            await services.GetRequiredService<CatalogService>().InitializeAsync(file, env, ct);
            await services.GetRequiredService<ExchangeRates>().InitializeAsync(file, ct);
        }
        catch (CatalogValidationException e)
        {
            throw new StartupException($"--config {arguments.ConfigFile}:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", e.Errors));
        }
    }

    /// <summary>Reads the <c>--config</c> file before anything else, so a bad file stops start-up with its path and
    /// nothing is created. Unknown keys are errors too (see <see cref="ConfigFileSchema"/>).</summary>
    public static CatalogFile ReadCatalog(string? path)
    {
        if (path is null)
        {
            return new CatalogFile();
        }
        try
        {
            // The shape first, so a misplaced key is named as such; then the values (and JSON syntax errors, with their line).
            if (ConfigFileSchema.CheckFile(path) is { Count: > 0 } problems)
            {
                throw new StartupException($"--config {path}:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems));
            }
            return CatalogService.ReadFile(path);
        }
        catch (CatalogValidationException e)
        {
            throw new StartupException(string.Join(Environment.NewLine, e.Errors));
        }
    }

    /// <summary>Starts listening; only then is a generated administrator key stored and shown, followed by what the
    /// server loaded. A start that fails here leaves no key behind.</summary>
    public static async Task StartAsync(WebApplication app, TextWriter console, CancellationToken ct = default)
    {
        await app.StartAsync(ct);
        await console.WriteLineAsync(await StartupSummary.DescribeAsync(app.Services, ct));
        await app.Services.GetRequiredService<AdminKey>().CommitAsync(console, ct);
        await console.FlushAsync(ct);
    }

    private static async Task<IResult> HealthAsync(IStorageDatabase db, CancellationToken ct) =>
        await db.PingAsync(ct) ? Results.Text("ok") : Results.Text("storage unavailable", statusCode: 503);
}
