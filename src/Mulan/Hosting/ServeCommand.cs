using System.ComponentModel;
using Spectre.Console.Cli;

namespace Mulan.Hosting;

/// <summary><c>mulan serve</c>: runs the server until Ctrl+C or SIGTERM.</summary>
public sealed class ServeCommand : AsyncCommand<ServeCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--urls <URLS>")]
        [Description("Addresses to listen on, separated by ';'. Default http://127.0.0.1:5080.")]
        public string? Urls { get; init; }

        [CommandOption("--data <DIR>")]
        [Description("Data folder (SQLite database, key ring). Default ./mulan-data, or env MULAN_DATA.")]
        public string? Data { get; init; }

        [CommandOption("--config <FILE>")]
        [Description("JSON file of providers and models (and optional Gateway/Storage settings).")]
        public string? Config { get; init; }

        [CommandOption("--database <CONNECTION>")]
        [Description("PostgreSQL connection string (Host=...;Database=...;Username=...;Password=...) instead of SQLite. Or Storage:Postgres.")]
        public string? Database { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var arguments = new ServeArguments(settings.Urls ?? Environment.GetEnvironmentVariable("ASPNETCORE_URLS") ?? ServeArguments.DefaultUrls,
            settings.Data, settings.Config, settings.Database);
        var file = MulanServer.ReadCatalog(arguments.ConfigFile);
        await using var app = MulanServer.Build(arguments);
        await MulanServer.InitializeAsync(app, arguments, file, ct: cancellationToken);
        await MulanServer.StartAsync(app, System.Console.Out, cancellationToken);
        await app.WaitForShutdownAsync(CancellationToken.None);
        return ExitCodes.Success;
    }
}
