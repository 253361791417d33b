using Microsoft.Data.Sqlite;
using Mulan.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>The <c>mulan</c> command: <c>serve</c> and the client verbs, with the documented exit codes.</summary>
public static class MulanCli
{
    public static Task<int> RunAsync(string[] args)
    {
        if (Console.IsOutputRedirected)
        {
            // Piped or captured output has no terminal width; Spectre would assume 80 columns and cut table cells and
            // wrap lines, where a script wants them whole.
            AnsiConsole.Profile.Width = 1000;
        }
        var app = new CommandApp();
        app.Configure(c =>
        {
            c.SetApplicationName("mulan");
            c.SetApplicationVersion(MulanVersion.Current);
            c.UseStrictParsing();
            c.AddCommand<ServeCommand>("serve").WithDescription("Run the Mulan server.");
            c.AddBranch("keys", keys =>
            {
                keys.SetDescription("Virtual keys.");
                keys.AddCommand<KeysCreateCommand>("create").WithDescription("Create a key (printed once).")
                    .WithExample("keys", "create", "--name", "web", "--models", "chat-default", "--budget", "10USD/month", "--rpm", "60");
                keys.AddCommand<KeysListCommand>("list").WithDescription("List keys.");
                keys.AddCommand<KeysRevokeCommand>("revoke").WithDescription("Revoke a key at once.");
            });
            c.AddBranch("workspaces", ws =>
            {
                ws.SetDescription("Workspaces (tenants).");
                ws.AddCommand<WorkspacesCreateCommand>("create").WithDescription("Create a workspace.");
                ws.AddCommand<WorkspacesListCommand>("list").WithDescription("List workspaces.");
            });
            c.AddCommand<UsageCommand>("usage").WithDescription("Usage totals and records.");
            c.AddBranch("kb", kb =>
            {
                kb.SetDescription("Knowledge bases.");
                kb.AddCommand<KbCreateCommand>("create").WithDescription("Create a knowledge base.");
                kb.AddCommand<KbListCommand>("list").WithDescription("List knowledge bases.");
                kb.AddCommand<KbUpdateCommand>("update").WithDescription("Change the embedding model (re-embeds in the background, no downtime) or the rerank model.");
                kb.AddCommand<KbIngestCommand>("ingest").WithDescription("Upload files and folders and follow their ingestion.");
                kb.AddCommand<KbSearchCommand>("search").WithDescription("Search with explanations.");
                kb.AddCommand<KbAskCommand>("ask").WithDescription("Ask a question; the answer cites its sources.");
            });
            c.AddBranch("admin", admin =>
            {
                admin.SetDescription("Operations on this machine's data folder.");
                admin.AddCommand<AdminResetKeyCommand>("reset-key").WithDescription("Replace a lost administrator key (needs the data folder; audited).")
                    .WithExample("admin", "reset-key", "--data", "./mulan-data");
            });
            c.SetExceptionHandler((e, _) => Report(e));
        });
        return app.RunAsync(args);
    }

    private static int Report(Exception e)
    {
        var (code, message) = e switch
        {
            CommandAppException => (ExitCodes.UserError, e.Message),
            CliUserException or StartupException => (ExitCodes.UserError, e.Message),
            HttpRequestException h when h.HttpRequestError == HttpRequestError.ConnectionError =>
                (ExitCodes.SystemError, $"Cannot reach the server: {e.Message}"),
            SqliteException => (ExitCodes.SystemError, $"Storage failed: {e.Message}"),
            IOException when e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) =>
                (ExitCodes.SystemError, e.Message),
            _ => (ExitCodes.SystemError, e.Message),
        };
        // Plain text, unwrapped: the message names a setting or a path that must stay whole to be copied.
        Console.Error.WriteLine($"error: {message}");
        return code;
    }
}
