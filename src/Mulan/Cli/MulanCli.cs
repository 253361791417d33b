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
        var app = new CommandApp();
        app.Configure(c =>
        {
            c.SetApplicationName("mulan");
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
                kb.AddCommand<KbUpdateCommand>("update").WithDescription("Rename, describe, change the embedding model (re-embeds in the background, no downtime) or the rerank model.");
                kb.AddCommand<KbDeleteCommand>("delete").WithDescription("Delete a knowledge base with its documents (refused while in use, unless --force).");
                kb.AddCommand<KbDocsCommand>("docs").WithDescription("List a knowledge base's documents.");
                kb.AddCommand<KbRenameDocCommand>("rename-doc").WithDescription("Give a document a title.");
                kb.AddCommand<KbDeleteDocCommand>("delete-doc").WithDescription("Delete a document (by id or file name).");
                kb.AddCommand<KbIngestCommand>("ingest").WithDescription("Upload files and folders and follow their ingestion.");
                kb.AddCommand<KbSearchCommand>("search").WithDescription("Search with explanations.");
                kb.AddCommand<KbAskCommand>("ask").WithDescription("Ask a question; the answer cites its sources.");
            });
            c.SetExceptionHandler((e, _) => Report(e, args.Contains("--json", StringComparer.Ordinal)));
        });
        return app.RunAsync(args);
    }

    /// <param name="json">--json was asked for: stdout gets the error as its one JSON document too.</param>
    private static int Report(Exception e, bool json)
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
        var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        stderr.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
        if (json)
        {
            Console.Out.WriteLine(new System.Text.Json.Nodes.JsonObject
            {
                ["error"] = new System.Text.Json.Nodes.JsonObject { ["message"] = message, ["exitCode"] = code },
            }.ToJsonString());
        }
        return code;
    }
}
