using System.ComponentModel;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Audit;
using Mulan.Storage;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>
/// <c>mulan admin reset-key --data DIR</c>: replaces a lost administrator key. It needs no key, only the data folder,
/// so the right to reset is the right to that folder (the same that holds the database and the key ring). The reset
/// is audited; a server running on the folder stops accepting the old key within two seconds.
/// </summary>
public sealed class AdminResetKeyCommand : AsyncCommand<AdminResetKeyCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--data <DIR>")]
        [Description("The server's data folder. Default env MULAN_DATA, else ./mulan-data.")]
        public string? Data { get; init; }

        [CommandOption("--database <CONNECTION>")]
        [Description("The server's PostgreSQL connection string, when it runs on PostgreSQL. Default env MULAN_STORAGE__POSTGRES.")]
        public string? Database { get; init; }

        [CommandOption("--json")]
        [Description("Print {\"key\", \"dataFolder\"} as JSON.")]
        public bool Json { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var folder = Path.GetFullPath(settings.Data ?? Environment.GetEnvironmentVariable("MULAN_DATA") ?? new StorageOptions().DataDirectory);
        var storage = new StorageOptions { DataDirectory = folder, Postgres = settings.Database ?? Environment.GetEnvironmentVariable("MULAN_STORAGE__POSTGRES") };
        var key = KeyMaterial.NewAdminKey();
        if (storage.UsesPostgres)
        {
            // On PostgreSQL the right to reset is the right to the database: its credentials.
            await using var pg = new Storage.Postgres.PostgresDatabase(Options.Create(storage));
            if (!await pg.HasSchemaAsync(cancellationToken))
            {
                throw new CliUserException("--database: no Mulan data in that database (no Mulan schema); pass the connection string the server runs with");
            }
            await new Storage.AccessStore(pg).SetSettingAsync(AdminKey.SettingName, KeyMaterial.Hash(key), cancellationToken);
            await new Storage.AuditStore(pg).AppendAsync(AuditEntries.AdminKeyReset(folder), TimeProvider.System.GetUtcNow(), CancellationToken.None);
            return Print(key, folder, settings.Json);
        }
        if (!File.Exists(storage.DatabasePath))
        {
            // Never create an empty database here: that would look like a reset and change nothing.
            throw new CliUserException($"--data: no Mulan data in '{folder}' (no mulan.db); pass the folder the server runs with (--data or MULAN_DATA)");
        }
        var db = new SqliteDatabase(Options.Create(storage));
        await db.InitializeAsync(cancellationToken);
        await new AccessStore(db).SetSettingAsync(AdminKey.SettingName, KeyMaterial.Hash(key), cancellationToken);
        await new AuditStore(db).AppendAsync(AuditEntries.AdminKeyReset(folder), TimeProvider.System.GetUtcNow(), CancellationToken.None);
        return Print(key, folder, settings.Json);
    }

    private static int Print(string key, string folder, bool json)
    {
        if (json)
        {
            JsonTables.Print(new JsonObject { ["key"] = key, ["dataFolder"] = folder });
            return 0;
        }
        System.Console.WriteLine(AdminKey.Banner(key, TimeProvider.System.GetUtcNow()));
        System.Console.WriteLine("A server running on this folder accepts the new key within two seconds, and no longer the old one.");
        System.Console.WriteLine("(A server started with MULAN_ADMIN_KEY set uses that key instead.)");
        return 0;
    }
}
