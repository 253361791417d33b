using System.ComponentModel;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>What the speech and OCR commands share: a virtual key (the call is billed to it) and a route of the right kind.</summary>
public class MediaSettings : ClientSettings
{
    [CommandOption("--key <KEY>")]
    [Description("A virtual key (mk-...); the call is billed to it. Default env MULAN_KEY.")]
    public string? Key { get; init; }

    [CommandOption("--model <ROUTE>")]
    [Description("The route to use. Default: the first route of the right kind this key may use.")]
    public string? Model { get; init; }

    public string ResolvedKey => Key ?? Environment.GetEnvironmentVariable("MULAN_KEY")
        ?? throw new CliUserException("--key: speech and OCR calls are billed to a virtual key; pass --key mk-... (or set MULAN_KEY)");

    /// <summary>The route named, or the first of <paramref name="kind"/> in <c>/v1/models</c>.</summary>
    public async Task<string> ModelAsync(MulanApiClient api, string kind, CancellationToken ct)
    {
        if (Model is { Length: > 0 } model)
        {
            return model;
        }
        var models = await api.GetAsync("v1/models", ct);
        return models["data"]!.AsArray().Select(m => m!).FirstOrDefault(m => m["kind"]?.GetValue<string>() == kind)?["id"]!.GetValue<string>()
            ?? throw new CliUserException($"--model: this key may use no {kind} route; name one with --model (routes have \"kind\": \"{kind}\")");
    }

    public static void RequireFile(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new CliUserException($"{what}: no file '{path}'");
        }
    }
}

public sealed class AudioTranscribeCommand : AsyncCommand<AudioTranscribeCommand.Settings>
{
    public sealed class Settings : MediaSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("The audio file (WAV, MP3, FLAC, OGG/Opus, WebM, M4A, AMR).")]
        public string File { get; init; } = "";

        [CommandOption("--language <CODE>")]
        [Description("The language spoken (zh, en, yue, ...). Default: the route's.")]
        public string? Language { get; init; }

        [CommandOption("--format <FORMAT>")]
        [Description("text (default), json, verbose_json, srt or vtt; printed as the server sends it.")]
        public string Format { get; init; } = "text";

        [CommandOption("--prompt <TEXT>")]
        [Description("Words to expect (names, terms), for routes whose vendor takes a hint.")]
        public string? Prompt { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        MediaSettings.RequireFile(s.File, "FILE");
        if (!Speech.Transcripts.Formats.Contains(s.Format))
        {
            throw new CliUserException($"--format: one of {string.Join(", ", Speech.Transcripts.Formats)} (got '{s.Format}')");
        }
        using var api = new MulanApiClient(s, s.ResolvedKey);
        var model = await s.ModelAsync(api, "transcription", ct);
        var format = s.Json ? "verbose_json" : s.Format;
        var text = await api.SendFormTextAsync("v1/audio/transcriptions", "file", s.File, ct,
            ("model", model), ("language", s.Language), ("prompt", s.Prompt), ("response_format", format));
        System.Console.Out.Write(text.EndsWith('\n') ? text : text + "\n");
        return 0;
    }
}

public sealed class AudioSpeakCommand : AsyncCommand<AudioSpeakCommand.Settings>
{
    public sealed class Settings : MediaSettings
    {
        [CommandArgument(0, "<TEXT>")]
        [Description("The text to speak.")]
        public string Text { get; init; } = "";

        [CommandOption("-o|--output <FILE>")]
        [Description("Where to write the audio (required); its extension picks the format unless --format is given.")]
        public string? Output { get; init; }

        [CommandOption("--voice <VOICE>")]
        [Description("An OpenAI voice name (alloy, nova, ...) or one of the route's own voices. Default alloy.")]
        public string Voice { get; init; } = "alloy";

        [CommandOption("--format <FORMAT>")]
        [Description("mp3, opus, aac, flac, wav or pcm.")]
        public string? Format { get; init; }

        [CommandOption("--speed <SPEED>")]
        [Description("0.25 to 4.0; 1 is normal.")]
        public double Speed { get; init; } = 1.0;
    }

    private static readonly string[] Formats = ["mp3", "opus", "aac", "flac", "wav", "pcm"];

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        if (s.Output is not { Length: > 0 } output)
        {
            throw new CliUserException("-o: required, the file to write the audio to");
        }
        var format = s.Format ?? Path.GetExtension(output).TrimStart('.').ToLowerInvariant() switch
        {
            "ogg" => "opus",
            "raw" => "pcm",
            var e => e,
        };
        if (!Formats.Contains(format))
        {
            throw new CliUserException($"--format: one of {string.Join(", ", Formats)} (or an output file ending in one of them); got '{format}'");
        }
        if (s.Speed is < 0.25 or > 4.0 || !double.IsFinite(s.Speed))
        {
            throw new CliUserException("--speed: from 0.25 to 4.0");
        }
        if (string.IsNullOrWhiteSpace(s.Text))
        {
            throw new CliUserException("TEXT: nothing to speak");
        }
        using var api = new MulanApiClient(s, s.ResolvedKey);
        var model = await s.ModelAsync(api, "speech", ct);
        using var response = await api.OpenStreamAsync("v1/audio/speech",
            new JsonObject { ["model"] = model, ["input"] = s.Text, ["voice"] = s.Voice, ["response_format"] = format, ["speed"] = s.Speed }, ct);
        // Written to a temporary name first: a stream cut off half way leaves no file that looks whole.
        var partial = output + ".part";
        await using (var file = File.Create(partial))
        {
            await response.Content.CopyToAsync(file, ct);
        }
        File.Move(partial, output, overwrite: true);
        var bytes = new FileInfo(output).Length;
        if (s.Json)
        {
            System.Console.Out.WriteLine(new JsonObject { ["file"] = output, ["bytes"] = bytes, ["model"] = model, ["format"] = format, ["cost"] = Cost(response) }.ToJsonString());
        }
        else
        {
            AnsiConsole.MarkupLine($"Wrote [bold]{Markup.Escape(output)}[/] ({bytes} bytes of {format}, model {Markup.Escape(model)}{Markup.Escape(CostText(response))}).");
        }
        return 0;
    }

    internal static JsonNode? Cost(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-mulan-cost", out var amount) && response.Headers.TryGetValues("x-mulan-cost-currency", out var currency)
            ? new JsonObject { ["amount"] = decimal.Parse(amount.First(), System.Globalization.CultureInfo.InvariantCulture), ["currency"] = currency.First() }
            : null;

    internal static string CostText(HttpResponseMessage response) => Cost(response) is { } c ? $", cost {c["amount"]} {c["currency"]}" : "";
}

public sealed class OcrCommand : AsyncCommand<OcrCommand.Settings>
{
    public sealed class Settings : MediaSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("An image (PNG, JPEG, TIFF, BMP, GIF, WebP) or a PDF.")]
        public string File { get; init; } = "";

        [CommandOption("--language <LIST>")]
        [Description("zh-Hans, zh-Hant, zh, en, comma-separated. Default: all the engine reads.")]
        public string? Language { get; init; }

        [CommandOption("--format <FORMAT>")]
        [Description("markdown (default) or text; --json prints the whole answer.")]
        public string Format { get; init; } = "markdown";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        MediaSettings.RequireFile(s.File, "FILE");
        if (s.Format is not ("markdown" or "text"))
        {
            throw new CliUserException($"--format: markdown or text (got '{s.Format}')");
        }
        using var api = new MulanApiClient(s, s.ResolvedKey);
        var model = await s.ModelAsync(api, "ocr", ct);
        var answer = await api.SendFormAsync(HttpMethod.Post, "v1/ocr", "file", s.File, ct, ("model", model), ("language", s.Language));
        if (s.Json)
        {
            System.Console.Out.WriteLine(answer.ToJsonString());
            return 0;
        }
        var pages = answer["pages"]!.AsArray();
        for (var i = 0; i < pages.Count; i++)
        {
            if (pages.Count > 1)
            {
                System.Console.Out.WriteLine(i == 0 ? $"<!-- page {i + 1} -->" : $"\n<!-- page {i + 1} -->");
            }
            System.Console.Out.WriteLine(pages[i]![s.Format]!.GetValue<string>());
        }
        return 0;
    }
}
