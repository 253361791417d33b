using System.Text;
using System.Text.Json.Nodes;
using Mulan.Apps.Runtime;
using Mulan.Gateway.Wire;

namespace Mulan.Apps.Copywriting;

/// <summary>
/// The copywriter: the app's instructions with the request's inputs (product, selling points, audience, channel, tone,
/// length), the channel preset's real constraints, and N variants, each its own model call through the gateway (vendors
/// differ on <c>n</c>; separate calls also vary more). Every variant is checked against the advertising-law rules (and
/// the workspace's own) and the channel's limits before it is returned: rewritten where a rule suggests wording
/// (compliance <c>rewrite</c>, the default), or returned as written with its findings (<c>flag</c>).
/// </summary>
public sealed class CopywriterRuntime(AppModelCaller models, Compliance.ComplianceChecker checker, Compliance.WorkspaceRuleSource workspaceRules,
    TimeProvider time)
{
    public const int MaxVariants = 5;

    public async Task HandleAsync(AppGateway.AppCall call, AppGateway gateway)
    {
        var d = call.App.Definition;
        var settings = d.Copywriter;
        var n = call.Turn.N ?? settings?.Variants ?? 1;
        if (n > MaxVariants)
        {
            await gateway.FailAsync(call, 400, Error($"A copywriter writes at most {MaxVariants} variants per request.", "n"));
            return;
        }
        var channelName = call.Turn.Inputs.GetValueOrDefault("channel") ?? settings?.Channel;
        ChannelPreset? preset = null;
        if (channelName is not null && !ChannelPresets.All.TryGetValue(channelName, out preset))
        {
            await gateway.FailAsync(call, 400, Error($"Unknown channel '{channelName}'; channels: {string.Join(", ", ChannelPresets.All.Keys)}.", "inputs.channel"));
            return;
        }
        if (call.X.Request!.Stream && n > 1)
        {
            await gateway.FailAsync(call, 400, Error("A streamed copywriter request writes one variant; ask without stream for several.", "n"));
            return;
        }
        var body = Request(call, preset);
        var shaper = new AnswerShaper(d, call.Turn.Question);
        var variants = await Task.WhenAll(Enumerable.Range(0, n).Select(_ => models.CompleteAsync(call.X.Key, call.Calls, d.Model!, body.DeepClone().AsObject(),
            call.Ctx.RequestAborted)));
        foreach (var v in variants)
        {
            call.Add(v);
        }
        if (variants.FirstOrDefault(v => v.Error is not null) is { } failed)
        {
            await gateway.FailAsync(call, failed.Status, failed.Error!, failed.RetryAfterSeconds);
            return;
        }
        var texts = variants.Select(v => shaper.Shape(v.Text.Trim())).ToList();
        var mode = settings?.Compliance ?? "rewrite";
        var report = new JsonArray();
        if (mode != "off")
        {
            var rules = await workspaceRules.RulesAsync(call.App.App.WorkspaceId, call.Ctx.RequestAborted);
            for (var i = 0; i < texts.Count; i++)
            {
                var findings = checker.Check(texts[i], preset?.Name, rules);
                IReadOnlyList<Compliance.ComplianceFinding> rewritten = [];
                if (mode == "rewrite" && findings.Any(f => f.Suggestion is not null))
                {
                    rewritten = [.. findings.Where(f => f.Suggestion is not null)];
                    texts[i] = Compliance.ComplianceChecker.Rewrite(texts[i], rewritten);
                    findings = checker.Check(texts[i], preset?.Name, rules);
                }
                report.Add(new JsonObject
                {
                    ["index"] = i,
                    ["rewritten"] = Findings(rewritten),
                    ["findings"] = Findings(findings),
                });
            }
        }
        if (!await gateway.SaveAsync(call, texts[0], []))
        {
            return;
        }
        var extras = new JsonObject { ["channel"] = preset?.Name, ["compliance"] = report };
        if (call.X.Request.Stream)
        {
            // Copy is checked before it is returned, so a stream gets it whole, as one delta.
            var stream = new AppGateway.AppStream(call);
            await stream.StartAsync();
            await stream.DeltaAsync(texts[0]);
            await stream.EndAsync(shaper.Truncated ? "length" : "stop", [], true, extras);
            return;
        }
        await gateway.WriteCompletionAsync(call, texts, shaper.Truncated ? "length" : "stop", [], true, extras);
    }

    private JsonObject Request(AppGateway.AppCall call, ChannelPreset? preset)
    {
        var d = call.App.Definition;
        var s = d.Copywriter;
        var inputs = call.Turn.Inputs;
        var system = new StringBuilder(AppPrompt.Fill(d, inputs, time.GetUtcNow()));
        system.Append("\n\nWrite marketing copy.");
        if (preset is not null)
        {
            system.Append("\nChannel: ").Append(preset.Label).Append(". ").Append(preset.Guidance);
            if (preset.TitleMaxCharacters is { } title)
            {
                system.Append("\nThe title has at most ").Append(title).Append(" characters.");
            }
            if (preset.BodyMaxCharacters is { } max)
            {
                system.Append("\nThe whole copy has at most ").Append(max).Append(" characters.");
            }
        }
        if ((inputs.GetValueOrDefault("tone") ?? s?.Tone) is { } tone)
        {
            system.Append("\nTone: ").Append(tone).Append('.');
        }
        if ((inputs.GetValueOrDefault("audience") ?? s?.Audience) is { } audience)
        {
            system.Append("\nAudience: ").Append(audience).Append('.');
        }
        if ((inputs.GetValueOrDefault("length") ?? s?.Length?.ToString(System.Globalization.CultureInfo.InvariantCulture)) is { } length)
        {
            system.Append("\nLength: about ").Append(length).Append(" characters.");
        }
        system.Append("\nNo absolute claims (best, first, only, national-level) and no efficacy promises: advertising law forbids them.");
        var user = new StringBuilder(call.Turn.Question);
        foreach (var name in new[] { "product", "selling_points" })
        {
            if (inputs.GetValueOrDefault(name) is { } value)
            {
                user.Append('\n').Append(name.Replace('_', ' ')).Append(": ").Append(value);
            }
        }
        var body = new JsonObject
        {
            ["temperature"] = call.X.Request!.Body["temperature"]?.DeepClone() ?? 0.8,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = system.ToString() },
                new JsonObject { ["role"] = "user", ["content"] = user.ToString() }),
        };
        if (call.X.Request.Body["max_tokens"] is { } maxTokens)
        {
            body["max_tokens"] = maxTokens.DeepClone();
        }
        return body;
    }

    private static JsonArray Findings(IReadOnlyList<Compliance.ComplianceFinding> findings) =>
        [.. findings.Select(f => (JsonNode)new JsonObject
        {
            ["term"] = f.Term, ["start"] = f.Start, ["length"] = f.Length, ["rule"] = f.Rule, ["category"] = f.Category, ["suggestion"] = f.Suggestion,
        })];

    private static JsonObject Error(string message, string param) =>
        new() { ["message"] = message, ["type"] = "invalid_request_error", ["param"] = param };
}
