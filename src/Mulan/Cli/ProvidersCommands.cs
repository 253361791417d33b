using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary><c>mulan providers</c> (or <c>providers list</c>): the providers, never their secrets.</summary>
public sealed class ProvidersListCommand : AsyncCommand<ClientSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, ClientSettings s, CancellationToken ct) =>
        JsonTables.ListAsync(s, "api/providers", "providers", ct, ("name", "name"), ("kind", "kind"), ("location", "location"), ("base URL", "baseUrl"),
            ("api key", "hasApiKey"), ("source", "source"));
}

/// <summary><c>mulan providers add NAME --kind KIND ...</c>, or <c>-f FILE</c> with the provider's JSON (the config file's shape).</summary>
public sealed class ProvidersAddCommand : AsyncCommand<ProvidersAddCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "[NAME]")]
        [Description("The provider's name (required unless the file gives it).")]
        public string? Name { get; init; }

        [CommandOption("-f|--file <FILE>")]
        [Description("A JSON file with the provider, as in the configuration file's \"providers\" list.")]
        public string? File { get; init; }

        [CommandOption("--kind <KIND>")]
        [Description("openai, anthropic, gemini, azure-openai, ollama, deepseek, qwen, ... (see docs/configuration.md).")]
        public string? Kind { get; init; }

        [CommandOption("--base-url <URL>")]
        public string? BaseUrl { get; init; }

        [CommandOption("--api-key <KEY>")]
        [Description("The vendor key. Prefer --api-key-env: a command line is visible to other users of the machine.")]
        public string? ApiKey { get; init; }

        [CommandOption("--api-key-env <VAR>")]
        [Description("Read the vendor key from this environment variable of the client.")]
        public string? ApiKeyEnv { get; init; }

        [CommandOption("--header <NAME=VALUE>")]
        [Description("An extra header sent upstream; repeatable.")]
        public string[] Headers { get; init; } = [];

        [CommandOption("--location <WHERE>")]
        [Description("local or external.")]
        public string? Location { get; init; }

        public override ValidationResult Validate() =>
            File is null && Name is null ? ValidationResult.Error("NAME: required (or give -f FILE)")
            : File is null && Kind is null ? ValidationResult.Error("--kind: required (or give -f FILE)")
            : ApiKey is not null && ApiKeyEnv is not null ? ValidationResult.Error("--api-key and --api-key-env: give one or the other")
            : Headers.FirstOrDefault(h => !h.Contains('=', StringComparison.Ordinal)) is { } bad ? ValidationResult.Error($"--header: '{bad}' is not NAME=VALUE")
            : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        var provider = s.File is null ? new JsonObject() : JsonFile.ReadObject(s.File);
        void Set(string field, JsonNode? value)
        {
            if (value is not null)
            {
                provider[field] = value;
            }
        }
        Set("name", s.Name);
        Set("kind", s.Kind);
        Set("baseUrl", s.BaseUrl);
        Set("location", s.Location);
        Set("apiKey", s.ApiKey ?? (s.ApiKeyEnv is null ? null
            : Environment.GetEnvironmentVariable(s.ApiKeyEnv) ?? throw new CliUserException($"--api-key-env: the variable '{s.ApiKeyEnv}' is not set")));
        if (s.Headers.Length > 0)
        {
            var headers = provider["headers"] as JsonObject ?? [];
            foreach (var h in s.Headers)
            {
                var (name, value) = (h[..h.IndexOf('=', StringComparison.Ordinal)], h[(h.IndexOf('=', StringComparison.Ordinal) + 1)..]);
                headers[name.Trim()] = value;
            }
            provider["headers"] = headers;
        }
        using var api = new MulanApiClient(s);
        var created = await api.SendJsonAsync(HttpMethod.Post, "api/providers", provider, ct);
        if (s.Json)
        {
            JsonTables.Print(created);
        }
        else
        {
            System.Console.WriteLine($"Added provider {created["name"]} ({created["kind"]}, {created["location"]}, {created["baseUrl"]}).");
        }
        return 0;
    }
}

public sealed class ProvidersRemoveCommand : AsyncCommand<NameSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, NameSettings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        await api.DeleteAsync($"api/providers/{Uri.EscapeDataString(s.Name)}", ct);
        if (s.Json)
        {
            JsonTables.Print(new JsonObject { ["name"] = s.Name, ["removed"] = true });
        }
        else
        {
            System.Console.WriteLine($"Removed provider {s.Name}.");
        }
        return 0;
    }
}

/// <summary>A verb whose one argument is a name.</summary>
public class NameSettings : ClientSettings
{
    [CommandArgument(0, "<NAME>")]
    public string Name { get; init; } = "";
}

/// <summary>JSON files given with <c>-f</c>.</summary>
internal static class JsonFile
{
    public static JsonNode Read(string path)
    {
        if (!System.IO.File.Exists(path))
        {
            throw new CliUserException($"--file: '{path}' does not exist");
        }
        try
        {
            return JsonNode.Parse(System.IO.File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })
                ?? throw new CliUserException($"--file: '{path}' is empty");
        }
        catch (JsonException e)
        {
            throw new CliUserException($"--file: '{path}' is not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }
    }

    public static JsonObject ReadObject(string path) =>
        Read(path) as JsonObject ?? throw new CliUserException($"--file: '{path}' must hold a JSON object");
}

