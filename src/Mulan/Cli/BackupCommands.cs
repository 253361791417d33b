using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Mulan.Backup;
using Mulan.Storage;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary><c>mulan backup</c>: an online backup of a data folder (the server may keep running) into one
/// <c>.tar.gz</c>. Like <c>admin reset-key</c> it works on the folder itself, so the right to back up is the right to
/// read that folder.</summary>
public sealed class BackupCommand : AsyncCommand<BackupCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--data <DIR>")]
        [Description("The server's data folder. Default env MULAN_DATA, else ./mulan-data.")]
        public string? Data { get; init; }

        [CommandOption("-o|--output <FILE>")]
        [Description("The archive to write. Default mulan-backup-<UTC time>.tar.gz in the current folder.")]
        public string? Output { get; init; }

        [CommandOption("--json")]
        [Description("Print {file, bytes, files, createdAt, schemaVersion} as JSON.")]
        public bool Json { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var folder = DataFolder(settings.Data);
        if (!File.Exists(Path.Combine(folder, BackupArchive.DatabaseName)))
        {
            throw new CliUserException($"--data: no Mulan data in '{folder}' (no mulan.db); pass the folder the server runs with (--data or MULAN_DATA)");
        }
        var output = Path.GetFullPath(settings.Output ?? $"mulan-backup-{DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.tar.gz");
        if (output.StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new CliUserException("--output: must not be inside the data folder (the backup would contain itself)");
        }
        if (Path.GetDirectoryName(output) is { } dir && !Directory.Exists(dir))
        {
            throw new CliUserException($"--output: no folder '{dir}'");
        }
        var (manifest, vanished) = await BackupArchive.CreateAsync(folder, output, TimeProvider.System, cancellationToken);
        var bytes = new FileInfo(output).Length;
        if (settings.Json)
        {
            JsonTables.Print(new JsonObject
            {
                ["file"] = output, ["bytes"] = bytes, ["files"] = manifest.Files.Count, ["createdAt"] = manifest.CreatedAt,
                ["schemaVersion"] = manifest.SchemaVersion, ["vanished"] = vanished,
            });
            return 0;
        }
        System.Console.WriteLine($"Backed up {folder} to {output} ({bytes:N0} bytes, {manifest.Files.Count} files, schema {manifest.SchemaVersion}).");
        if (vanished > 0)
        {
            System.Console.WriteLine($"{vanished} file(s) were deleted while the backup ran and are not in it (documents deleted meanwhile).");
        }
        return 0;
    }

    internal static string DataFolder(string? data) =>
        Path.GetFullPath(data ?? Environment.GetEnvironmentVariable("MULAN_DATA") ?? new StorageOptions().DataDirectory);
}

/// <summary><c>mulan restore FILE</c>: a backup into a data folder that no server is using, checked whole before
/// anything is changed.</summary>
public sealed class RestoreCommand : AsyncCommand<RestoreCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("An archive made by mulan backup.")]
        public string File { get; init; } = "";

        [CommandOption("--data <DIR>")]
        [Description("The data folder to restore into. Default env MULAN_DATA, else ./mulan-data.")]
        public string? Data { get; init; }

        [CommandOption("--force")]
        [Description("Restore over a folder that is not empty; its contents are moved to DIR.before-restore-<time>.")]
        public bool Force { get; init; }

        [CommandOption("--json")]
        [Description("Print {dataFolder, files, createdAt, schemaVersion, movedAside} as JSON.")]
        public bool Json { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var folder = BackupCommand.DataFolder(settings.Data);
        DataFolderRestore.Result result;
        try
        {
            result = await DataFolderRestore.RunAsync(Path.GetFullPath(settings.File), folder, settings.Force, TimeProvider.System, cancellationToken);
        }
        catch (BackupInvalidException e)
        {
            throw new CliUserException($"FILE: {settings.File} cannot be restored: {e.Message}; nothing was changed");
        }
        if (settings.Json)
        {
            JsonTables.Print(new JsonObject
            {
                ["dataFolder"] = folder, ["files"] = result.Manifest.Files.Count, ["createdAt"] = result.Manifest.CreatedAt,
                ["schemaVersion"] = result.Manifest.SchemaVersion, ["movedAside"] = result.MovedAside,
            });
            return 0;
        }
        System.Console.WriteLine($"Restored {settings.File} (taken {result.Manifest.CreatedAt:u}, {result.Manifest.Files.Count} files) into {folder}.");
        if (result.MovedAside is not null)
        {
            System.Console.WriteLine($"The folder's earlier contents are in {result.MovedAside}.");
        }
        System.Console.WriteLine("Start the server on it: mulan serve --data " + folder);
        return 0;
    }
}
