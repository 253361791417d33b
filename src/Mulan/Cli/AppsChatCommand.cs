using System.ComponentModel;
using System.Text;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>
/// A terminal chat with a published app over the gateway, as any OpenAI client would talk to it: streamed, each turn
/// continuing the stored conversation by its id. Lines come from stdin, so a script can pipe questions in.
/// </summary>
public sealed class AppsChatCommand : AsyncCommand<AppsChatCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<SLUG>")]
        [Description("The app's slug (its published version answers).")]
        public string Slug { get; init; } = "";

        [CommandOption("--key <KEY>")]
        [Description("A virtual key (mk-...) of the app's workspace; the chat is billed to it. Default env MULAN_KEY.")]
        public string? Key { get; init; }

        [CommandOption("--user <ID>")]
        [Description("The end user to chat as (conversations and per-user limits are kept by it). Default: the key.")]
        public string? User { get; init; }

        [CommandOption("--conversation <ID>")]
        [Description("Continue a stored conversation.")]
        public string? Conversation { get; init; }
    }

    public const string ExitCommand = "/exit";

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        var key = s.Key ?? Environment.GetEnvironmentVariable("MULAN_KEY")
            ?? throw new CliUserException("--key: chatting with an app is billed to a virtual key; pass --key mk-... (or set MULAN_KEY)");
        using var api = new MulanApiClient(s, key);
        var interactive = !System.Console.IsInputRedirected && !s.Json;
        var conversationId = s.Conversation;
        // Sent in full only while the server has not said which stored conversation this is.
        var history = new JsonArray();
        var turns = new JsonArray();
        if (interactive)
        {
            AnsiConsole.MarkupLine($"[grey]Chatting with app:{Markup.Escape(s.Slug)}; {ExitCommand} or Ctrl+D to leave.[/]");
        }
        while (true)
        {
            if (interactive)
            {
                AnsiConsole.Markup("[bold]> [/]");
            }
            var line = await System.Console.In.ReadLineAsync(ct);
            if (line is null || line.Trim() == ExitCommand)
            {
                break;
            }
            if (line.Trim().Length == 0)
            {
                continue;
            }
            var question = new JsonObject { ["role"] = "user", ["content"] = line };
            var request = new JsonObject
            {
                ["model"] = $"app:{s.Slug}",
                ["stream"] = true,
                ["messages"] = conversationId is null ? new JsonArray([.. history.Select(m => m!.DeepClone()), question.DeepClone()]) : new JsonArray(question.DeepClone()),
            };
            if (conversationId is not null)
            {
                request["conversation_id"] = conversationId;
            }
            if (s.User is not null)
            {
                request["user"] = s.User;
            }
            var turn = await StreamTurnAsync(api, request, print: !s.Json, ct);
            conversationId = turn.ConversationId ?? conversationId;
            history.Add(question);
            history.Add(new JsonObject { ["role"] = "assistant", ["content"] = turn.Answer });
            if (!s.Json)
            {
                foreach (var c in turn.Citations.OfType<JsonObject>())
                {
                    AnsiConsole.MarkupLine($"  [grey][[{c["marker"]}]] {Markup.Escape(KbSettings.Source(c))}[/]");
                }
            }
            turns.Add(new JsonObject
            {
                ["question"] = line, ["answer"] = turn.Answer, ["citations"] = turn.Citations, ["requestId"] = turn.RequestId,
            });
        }
        if (s.Json)
        {
            JsonTables.Print(new JsonObject { ["app"] = s.Slug, ["conversationId"] = conversationId, ["turns"] = turns });
        }
        return 0;
    }

    private sealed record Turn(string Answer, JsonArray Citations, string? ConversationId, string? RequestId);

    private static async Task<Turn> StreamTurnAsync(MulanApiClient api, JsonObject request, bool print, CancellationToken ct)
    {
        using var response = await api.OpenStreamAsync("v1/chat/completions", request, ct);
        var requestId = response.Headers.TryGetValues("x-mulan-request-id", out var ids) ? ids.FirstOrDefault() : null;
        var answer = new StringBuilder();
        var citations = new JsonArray();
        string? conversationId = null;
        await foreach (var chunk in MulanApiClient.ReadEventsAsync(response, ct))
        {
            if (chunk["error"] is { } error)
            {
                throw new HttpRequestException($"The answer broke off: {error["message"] ?? error}");
            }
            if (chunk["choices"]?[0]?["delta"]?["content"]?.GetValue<string>() is { Length: > 0 } delta)
            {
                answer.Append(delta);
                if (print)
                {
                    // As it arrives: the point of streaming in a terminal.
                    System.Console.Out.Write(delta);
                    await System.Console.Out.FlushAsync(ct);
                }
            }
            if (chunk["citations"] is JsonArray cited)
            {
                citations = (JsonArray)cited.DeepClone();
            }
            if (chunk["conversation_id"]?.GetValue<string>() is { } id)
            {
                conversationId = id;
            }
        }
        if (print)
        {
            System.Console.Out.WriteLine();
        }
        return new Turn(answer.ToString(), citations, conversationId, requestId);
    }
}
