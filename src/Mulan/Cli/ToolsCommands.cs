using System.ComponentModel;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>Options of the verbs that name a tool source: its name (or id), resolved in <c>--workspace</c>.</summary>
public class ToolSourceSettings : ClientSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("The tool source's name or id.")]
    public string Name { get; init; } = "";

    [CommandOption("--workspace <WORKSPACE>")]
    [Description("The workspace (id or name) a name is looked up in. Default: the one workspace with a tool source of that name.")]
    public string? Workspace { get; init; }

    internal string Path() => MulanApiClient.WithQuery($"api/tools/{Uri.EscapeDataString(Name)}", ("workspace", Workspace));

    /// <summary>One line about a source: name, kind and its tools, marking those that change something.</summary>
    internal static string Describe(JsonNode source) =>
        $"{source["name"]} ({source["id"]}, {source["kind"]}): " +
        string.Join(", ", (source["tools"] as JsonArray ?? []).Select(t => t?["sideEffect"]?.GetValue<bool>() == true ? $"{t["name"]}*" : $"{t?["name"]}"));

    internal static int Created(ClientSettings s, JsonNode created) =>
        AppSettings.Report(s, created, $"Added tool source {Describe(created)}. (* changes something: a run asks for approval first.)");
}

/// <summary>What both ways of adding a source share: the name, the workspace, allowed hosts, the credential, the time limit.</summary>
public class ToolAddSettings : ClientSettings
{
    [CommandOption("--name <NAME>")]
    [Description("The tool source's name, as apps list it under tools (letters, digits, _ and -).")]
    public string? Name { get; init; }

    [CommandOption("--workspace <WORKSPACE>")]
    [Description("Workspace id or name. Default: the 'default' workspace.")]
    public string? Workspace { get; init; }

    [CommandOption("--allow-host <HOST>")]
    [Description("Let this source reach HOST even on a private or loopback address (a business system inside the network). Repeatable.")]
    public string[] AllowHost { get; init; } = [];

    [CommandOption("--credential-header <HEADER>")]
    [Description("The header the server adds to every call, e.g. X-Api-Key or Authorization (with --credential-env).")]
    public string? CredentialHeader { get; init; }

    [CommandOption("--credential-env <VAR>")]
    [Description("The environment variable holding the header's value: read here, stored encrypted, never shown. There is no flag for the value itself, so it stays out of shell history.")]
    public string? CredentialEnv { get; init; }

    [CommandOption("--timeout <SECONDS>")]
    [Description("The limit of one call (1-300, default 30).")]
    public int? TimeoutSeconds { get; init; }

    public override ValidationResult Validate()
    {
        if ((CredentialHeader is null) != (CredentialEnv is null))
        {
            return ValidationResult.Error("--credential-header and --credential-env go together");
        }
        if (CredentialEnv is not null && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(CredentialEnv)))
        {
            return ValidationResult.Error($"--credential-env: the environment variable {CredentialEnv} is not set");
        }
        return ValidationResult.Success();
    }

    internal JsonObject Body(string name)
    {
        var body = new JsonObject { ["name"] = name };
        if (Workspace is not null)
        {
            body["workspace"] = Workspace;
        }
        if (AllowHost.Length > 0)
        {
            body["allowHosts"] = new JsonArray([.. AllowHost.Select(h => (JsonNode)h)]);
        }
        if (CredentialHeader is not null)
        {
            body["credentials"] = new JsonObject { ["header"] = CredentialHeader, ["value"] = Environment.GetEnvironmentVariable(CredentialEnv!) };
        }
        if (TimeoutSeconds is { } t)
        {
            body["timeoutSeconds"] = t;
        }
        return body;
    }
}

public sealed class ToolsImportOpenApiCommand : AsyncCommand<ToolsImportOpenApiCommand.Settings>
{
    public sealed class Settings : ToolAddSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("The OpenAPI 3 document, JSON or YAML.")]
        public string File { get; init; } = "";

        [CommandOption("--base-url <URL>")]
        [Description("The service's base URL, instead of the document's servers[0].url.")]
        public string? BaseUrl { get; init; }

        [CommandOption("--operation <ID>")]
        [Description("Import only this operationId. Repeatable. Default: every operation.")]
        public string[] Operation { get; init; } = [];

        public override ValidationResult Validate() =>
            !System.IO.File.Exists(File) ? ValidationResult.Error($"FILE: '{File}' does not exist") : base.Validate();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        var body = s.Body(s.Name ?? Mulan.Assistant.Tools.ToolNames.Sanitize(System.IO.Path.GetFileNameWithoutExtension(s.File)));
        body["openapi"] = await System.IO.File.ReadAllTextAsync(s.File, ct);
        if (s.BaseUrl is not null)
        {
            body["baseUrl"] = s.BaseUrl;
        }
        if (s.Operation.Length > 0)
        {
            body["operations"] = new JsonArray([.. s.Operation.Select(o => (JsonNode)o)]);
        }
        using var api = new MulanApiClient(s);
        return ToolSourceSettings.Created(s, await api.SendJsonAsync(HttpMethod.Post, "api/tools", body, ct));
    }
}

public sealed class ToolsAddMcpCommand : AsyncCommand<ToolsAddMcpCommand.Settings>
{
    public sealed class Settings : ToolAddSettings
    {
        [CommandArgument(0, "<URL|COMMAND>")]
        [Description("The server's streamable HTTP URL, or the command that starts it over stdio (run on the Mulan server's machine).")]
        public string Target { get; init; } = "";

        [CommandArgument(1, "[ARGS]")]
        [Description("The command's arguments (after -- when they start with a dash).")]
        public string[] Args { get; init; } = [];

        public override ValidationResult Validate() =>
            Name is null ? ValidationResult.Error("--name: required") : base.Validate();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        var body = s.Body(s.Name!);
        var isUrl = Uri.TryCreate(s.Target, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps);
        var args = s.Args.Concat(context.Remaining.Raw).ToList();
        body["mcp"] = isUrl
            ? new JsonObject { ["url"] = s.Target }
            : new JsonObject { ["command"] = s.Target, ["args"] = new JsonArray([.. args.Select(a => (JsonNode)a)]) };
        using var api = new MulanApiClient(s);
        return ToolSourceSettings.Created(s, await api.SendJsonAsync(HttpMethod.Post, "api/tools", body, ct));
    }
}

public sealed class ToolsListCommand : AsyncCommand<ToolsListCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandOption("--workspace <WORKSPACE>")]
        [Description("Only this workspace's tool sources (id or name). Default: every workspace.")]
        public string? Workspace { get; init; }
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct) =>
        JsonTables.ListAsync(s, MulanApiClient.WithQuery("api/tools", ("workspace", s.Workspace)), "tools", ct, ("id", "id"), ("name", "name"),
            ("kind", "kind"), ("workspace", "workspace"), ("base URL", "baseUrl"), ("tools", "tools"), ("updated", "updatedAt"));
}

public sealed class ToolsShowCommand : AsyncCommand<ToolSourceSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ToolSourceSettings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var shown = await api.GetAsync(s.Path(), ct);
        if (s.Json)
        {
            JsonTables.Print(shown);
            return 0;
        }
        var table = new Table().AddColumns("field", "value").HideHeaders();
        foreach (var (name, value) in shown.AsObject().Where(p => p.Key != "tools"))
        {
            table.AddRow(Markup.Escape(name), JsonTables.Cell(value));
        }
        AnsiConsole.Write(table);
        var tools = new Table().AddColumns("tool", "side effect", "description");
        foreach (var tool in shown["tools"] as JsonArray ?? [])
        {
            tools.AddRow(JsonTables.Cell(tool?["name"]), tool?["sideEffect"]?.GetValue<bool>() == true ? "yes" : "no", JsonTables.Cell(tool?["description"]));
        }
        AnsiConsole.Write(tools);
        return 0;
    }
}

public sealed class ToolsDeleteCommand : AsyncCommand<ToolSourceSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ToolSourceSettings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        // By id afterwards: the name was resolved once, so the source deleted is the one shown.
        var source = await api.GetAsync(s.Path(), ct);
        await api.DeleteAsync($"api/tools/{Uri.EscapeDataString(source["id"]!.GetValue<string>())}", ct);
        return AppSettings.Report(s, new JsonObject { ["deleted"] = source["id"]!.DeepClone(), ["name"] = source["name"]!.DeepClone() },
            $"Deleted tool source {source["name"]} ({source["id"]}).");
    }
}
