using Mulan.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>The <c>mulan</c> command: <c>serve</c> and the client verbs, with the documented exit codes.</summary>
public static class MulanCli
{
    public static Task<int> RunAsync(string[] args)
    {
        if (System.Console.IsOutputRedirected)
        {
            // Piped or captured output has no terminal width; Spectre would assume 80 columns and cut table cells and
            // wrap lines, where a script wants them whole. COLUMNS, the shell's convention, still sets a width.
            AnsiConsole.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns is >= 20 and <= 1000
                ? columns
                : 1000;
        }
        // Known before parsing, so that even a parse error is reported as one JSON document when --json was asked for.
        var json = args.Contains("--json", StringComparer.Ordinal);
        var app = new CommandApp();
        app.Configure(c =>
        {
            c.SetApplicationName("mulan");
            // Spectre answers "mulan --version" itself (root only) with this, and prints nothing else.
            c.SetApplicationVersion(MulanVersion.Informational);
            c.UseStrictParsing();
            c.AddCommand<ServeCommand>("serve").WithDescription("Run the Mulan server.");
            c.AddBranch("keys", keys =>
            {
                keys.SetDescription("Virtual keys.");
                keys.SetDefaultCommand<KeysListCommand>();
                keys.AddCommand<KeysCreateCommand>("create").WithDescription("Create a key (printed once).")
                    .WithExample("keys", "create", "--name", "web", "--models", "chat-default", "--budget", "10USD/month", "--rpm", "60");
                keys.AddCommand<KeysListCommand>("list").WithDescription("List keys.");
                keys.AddCommand<KeysUpdateCommand>("update").WithDescription("Change a key's name, models, budget, limits or expiry; at once on the gateway.")
                    .WithExample("keys", "update", "web", "--models", "chat-default,embed", "--no-rpm");
                keys.AddCommand<KeysRotateCommand>("rotate").WithDescription("Give a key a new secret (printed once); the old one stops working at once.");
                keys.AddCommand<KeysRevokeCommand>("revoke").WithDescription("Revoke a key at once.");
            });
            c.AddBranch("workspaces", ws =>
            {
                ws.SetDescription("Workspaces (tenants).");
                ws.SetDefaultCommand<WorkspacesListCommand>();
                ws.AddCommand<WorkspacesCreateCommand>("create").WithDescription("Create a workspace.");
                ws.AddCommand<WorkspacesListCommand>("list").WithDescription("List workspaces.");
                ws.AddCommand<WorkspacesRenameCommand>("rename").WithDescription("Rename a workspace.");
                ws.AddCommand<WorkspacesDeleteCommand>("delete").WithDescription("Delete a workspace (--force: with its keys and knowledge bases; usage is kept).");
            });
            c.AddBranch("providers", p =>
            {
                p.SetDescription("Providers (vendor accounts); secrets are never shown.");
                p.SetDefaultCommand<ProvidersListCommand>();
                p.AddCommand<ProvidersListCommand>("list").WithDescription("List providers.");
                p.AddCommand<ProvidersAddCommand>("add").WithDescription("Add a provider from flags or a JSON file.")
                    .WithExample("providers", "add", "deepseek", "--kind", "deepseek", "--api-key-env", "DEEPSEEK_API_KEY");
                p.AddCommand<ProvidersRemoveCommand>("remove").WithDescription("Remove a provider no model uses.");
            });
            c.AddBranch("models", m =>
            {
                m.SetDescription("Model routes and their deployments.");
                m.SetDefaultCommand<ModelsListCommand>();
                m.AddCommand<ModelsListCommand>("list").WithDescription("List models with deployments and prices.");
                m.AddCommand<ModelsAddCommand>("add").WithDescription("Add a model from flags (one deployment) or a JSON file.")
                    .WithExample("models", "add", "chat-default", "--provider", "deepseek", "--model", "deepseek-chat", "--input", "2", "--output", "8", "--currency", "CNY");
                m.AddCommand<ModelsRemoveCommand>("remove").WithDescription("Remove a model route.");
                m.AddCommand<ModelsTestCommand>("test").WithDescription("One cheap real call per deployment (metered): ok or the upstream reason, with latency.");
            });
            c.AddCommand<UsageCommand>("usage").WithDescription("Usage totals and records; --csv exports the records.");
            c.AddCommand<AuditCommand>("audit").WithDescription("Administrative changes, newest first.");
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
            c.AddBranch("runs", runs =>
            {
                runs.SetDescription("Assistant runs: their step traces, and the approvals they wait for.");
                runs.SetDefaultCommand<RunsListCommand>();
                runs.AddCommand<RunsListCommand>("list").WithDescription("List runs, newest first.").WithExample("runs", "list", "--status", "awaiting_approval");
                runs.AddCommand<RunsShowCommand>("show").WithDescription("A run with its steps, output and cost.");
                runs.AddCommand<RunsApproveCommand>("approve").WithDescription("Run the call a run waits on (optionally with edited arguments).")
                    .WithExample("runs", "approve", "run_abc", "--arguments", "{\"id\":\"1001\"}");
                runs.AddCommand<RunsRejectCommand>("reject").WithDescription("Refuse the call a run waits on; the assistant is told why.");
                runs.AddCommand<RunsCancelCommand>("cancel").WithDescription("Stop a run that has not ended.");
            });
            c.AddBranch("apps", apps =>
            {
                apps.SetDescription("Apps: declarative assistants over the gateway, versioned and published.");
                apps.SetDefaultCommand<AppsListCommand>();
                apps.AddCommand<AppsCreateCommand>("create").WithDescription("Create an app from a definition file or a built-in template (version 1, not published).")
                    .WithExample("apps", "create", "--template", "hr-policy-qa", "--language", "zh-Hant", "-f", "overrides.json");
                apps.AddCommand<AppsUpdateCommand>("update").WithDescription("A changed definition: the app's next version (publish it to serve it).");
                apps.AddCommand<AppsListCommand>("list").WithDescription("List apps.");
                apps.AddCommand<AppsShowCommand>("show").WithDescription("An app with its latest definition, or one version's.");
                apps.AddCommand<AppsPublishCommand>("publish").WithDescription("Publish a version (default the latest): app:<slug> answers with it at once.");
                apps.AddCommand<AppsRollbackCommand>("rollback").WithDescription("Publish an earlier version again.");
                apps.AddCommand<AppsDiffCommand>("diff").WithDescription("What changed between two versions, by JSON path.");
                apps.AddCommand<AppsExportCommand>("export").WithDescription("Write an app as a package file, optionally with its documents and evaluation items; never keys or conversations.")
                    .WithExample("apps", "export", "hr-policy-qa", "-o", "hr.mulan-app.zip", "--documents");
                apps.AddCommand<AppsImportCommand>("import").WithDescription("Create an app from a package, mapping its routes and knowledge bases onto the workspace's.")
                    .WithExample("apps", "import", "hr.mulan-app.zip", "--workspace", "acme", "--map-model", "chat=chat-default");
                apps.AddCommand<AppsChatCommand>("chat").WithDescription("Chat with a published app in the terminal (lines from stdin; /exit to leave).");
            });
            c.AddBranch("tools", tools =>
            {
                tools.SetDescription("Tool sources of assistant apps: OpenAPI services and MCP servers.");
                tools.SetDefaultCommand<ToolsListCommand>();
                tools.AddCommand<ToolsImportOpenApiCommand>("import-openapi").WithDescription("Import an OpenAPI 3 document (JSON or YAML): each operation becomes a tool.")
                    .WithExample("tools", "import-openapi", "orders.yaml", "--name", "orders", "--credential-header", "X-Api-Key", "--credential-env", "ORDERS_KEY");
                tools.AddCommand<ToolsAddMcpCommand>("add-mcp").WithDescription("Add an MCP server: a streamable HTTP URL, or a command run on the server over stdio.")
                    .WithExample("tools", "add-mcp", "https://mcp.example.com/mcp", "--name", "crm");
                tools.AddCommand<ToolsListCommand>("list").WithDescription("List tool sources.");
                tools.AddCommand<ToolsShowCommand>("show").WithDescription("A tool source with its tools and which of them change something.");
                tools.AddCommand<ToolsDeleteCommand>("delete").WithDescription("Delete a tool source (refused while an app names it).");
            });
            c.AddBranch("eval", ev =>
            {
                ev.SetDescription("Evaluations: sets of questions, runs against an app or a model route, and their comparison.");
                ev.AddCommand<EvalImportCommand>("import").WithDescription("A set from a .csv, .xlsx, .jsonl or .json file (--set: the set's next version).")
                    .WithExample("eval", "import", "hr.csv", "--name", "hr-questions", "--workspace", "acme");
                ev.AddCommand<EvalRunCommand>("run").WithDescription("Run a set, wait for its end and print its metrics; exit 3 when a --fail-under threshold is missed.")
                    .WithExample("eval", "run", "evs_abc", "--app", "hr-policy-qa", "--fail-under", "factRecall=0.8", "--fail-under", "latencyP95Ms=3000");
                ev.AddCommand<EvalShowCommand>("show").WithDescription("A run with its metrics.");
                ev.AddCommand<EvalCompareCommand>("compare").WithDescription("Two runs metric by metric, and how many items got better or worse.");
            });
            c.AddBranch("audio", audio =>
            {
                audio.SetDescription("Speech through the gateway: transcription and synthesis, metered like any other call.");
                audio.AddCommand<AudioTranscribeCommand>("transcribe").WithDescription("Transcribe an audio file; prints the text (or srt, vtt, json).")
                    .WithExample("audio", "transcribe", "meeting.m4a", "--language", "zh", "--format", "srt");
                audio.AddCommand<AudioSpeakCommand>("speak").WithDescription("Speak a text into an audio file.")
                    .WithExample("audio", "speak", "\"欢迎使用木兰\"", "-o", "welcome.mp3", "--voice", "cmn");
            });
            c.AddCommand<OcrCommand>("ocr").WithDescription("Read the text of an image or PDF through an OCR route; prints Markdown.")
                .WithExample("ocr", "scan.pdf", "--language", "zh-Hant");
            c.AddBranch("pilot", pilot =>
            {
                pilot.SetDescription("Pilots: scope and change control, effort, ledger, acceptance and the report both sides sign.");
                pilot.SetDefaultCommand<PilotListCommand>();
                pilot.AddCommand<PilotCreateCommand>("create").WithDescription("Create a pilot; prints its id.")
                    .WithExample("pilot", "create", "--name", "\"HR FAQ\"", "--customer", "Acme", "--contract", "300000CNY", "--start", "2026-01-05", "--end", "2026-03-31", "--budget", "5000CNY");
                pilot.AddCommand<PilotListCommand>("list").WithDescription("List pilots.");
                pilot.AddCommand<PilotUpdateCommand>("update").WithDescription("Change status, name, dates, budget, keys or alerts.")
                    .WithExample("pilot", "update", "pilot_abc", "--status", "active");
                pilot.AddCommand<PilotScopeCommand>("scope").WithDescription("List the scope; before the freeze, add an item (--title, --priority, --criterion), change one (--item) or remove one (--remove).")
                    .WithExample("pilot", "scope", "pilot_abc", "--title", "\"HR policy answers\"", "--priority", "must", "--app", "hr-policy-qa", "--criterion", "factRecall=0.8@evs_abc");
                pilot.AddCommand<PilotFreezeCommand>("freeze").WithDescription("Freeze the scope as the baseline; later changes are change requests.");
                pilot.AddCommand<PilotChangeCommand>("change").WithDescription("List change requests, request one (with its impact), or --approve/--reject one.")
                    .WithExample("pilot", "change", "pilot_abc", "--title", "\"Also translate\"", "--priority", "should", "--effort-days", "3", "--cost", "9000CNY", "--schedule-days", "5", "--reason", "\"asked in week 4\"")
                    .WithExample("pilot", "change", "pilot_abc", "--approve", "chg_abc", "--by", "\"Acme PM\"");
                pilot.AddCommand<PilotEffortCommand>("effort").WithDescription("Log person-days of a role at a day rate.")
                    .WithExample("pilot", "effort", "pilot_abc", "--role", "engineer", "--days", "1.5", "--rate", "2000CNY", "--item", "scope_abc");
                pilot.AddCommand<PilotBakeoffCommand>("bakeoff").WithDescription("List the pilot's bake-offs as ranked tables, or record one (--title, --run ...) whose runs' cost counts in its ledger.")
                    .WithExample("pilot", "bakeoff", "pilot_abc", "--title", "\"Which vendor for HR\"", "--run", "evr_a", "--run", "evr_b", "--weight", "factRecall=0.7", "--weight", "cost=0.3");
                pilot.AddCommand<PilotStatusCommand>("status").WithDescription("Cost to date, contract, margin, burn, forecast, alerts, and each item's acceptance.");
                pilot.AddCommand<PilotReportCommand>("report").WithDescription("The report as html, md or json in zh-Hans, zh-Hant or en, to a file or stdout.")
                    .WithExample("pilot", "report", "pilot_abc", "--lang", "zh-Hans", "--out", "report.html");
                pilot.AddCommand<PilotSignoffCommand>("signoff").WithDescription("Sign the report as it is now (stored with its SHA-256); alone, list the signatures.")
                    .WithExample("pilot", "signoff", "pilot_abc", "--side", "customer", "--name", "\"Li Wei\"");
            });
            c.AddBranch("admin", admin =>
            {
                admin.SetDescription("Operations on this machine's data folder.");
                admin.AddCommand<AdminResetKeyCommand>("reset-key").WithDescription("Replace a lost administrator key (needs the data folder; audited).")
                    .WithExample("admin", "reset-key", "--data", "./mulan-data");
            });
            c.AddCommand<BackupCommand>("backup").WithDescription("Back up a data folder (online: the server may keep running) into one .tar.gz.")
                .WithExample("backup", "--data", "./mulan-data", "-o", "/backups/mulan.tar.gz");
            c.AddCommand<RestoreCommand>("restore").WithDescription("Restore a backup into a data folder no server is using (checked before anything changes).")
                .WithExample("restore", "/backups/mulan.tar.gz", "--data", "./mulan-data");
            c.SetExceptionHandler((e, _) => Report(e, json));
        });
        return app.RunAsync(args);
    }

    private static int Report(Exception e, bool json)
    {
        var (code, message) = e switch
        {
            CommandAppException => (ExitCodes.UserError, e.Message),
            CliUserException or StartupException => (ExitCodes.UserError, e.Message),
            HttpRequestException h when h.HttpRequestError == HttpRequestError.ConnectionError =>
                (ExitCodes.SystemError, $"Cannot reach the server: {e.Message}"),
            System.Data.Common.DbException => (ExitCodes.SystemError, $"Storage failed: {e.Message}"),
            IOException when e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) =>
                (ExitCodes.SystemError, e.Message),
            _ => (ExitCodes.SystemError, e.Message),
        };
        if (System.Console.IsErrorRedirected)
        {
            // One unwrapped line for scripts and logs; colour and wrapping are for a terminal.
            System.Console.Error.WriteLine("error: " + message);
        }
        else
        {
            var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(System.Console.Error) });
            stderr.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
        }
        if (json)
        {
            // A script reading stdout gets one JSON document on failure too.
            var error = new System.Text.Json.Nodes.JsonObject { ["message"] = message, ["exitCode"] = code };
            if (e is CliUserException { Status: { } status })
            {
                error["status"] = status;
            }
            JsonTables.Print(new System.Text.Json.Nodes.JsonObject { ["error"] = error });
        }
        return code;
    }
}
