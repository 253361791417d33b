using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Apps;
using Mulan.Governance.RateLimits;
using Mulan.Hosting.Problems;
using Mulan.Knowledge;

namespace Mulan.Console.Chat;

/// <summary><c>/api/chat/{slug}</c>: what the chat page calls. Callers: a person of the app's workspace, or a share
/// token of that app (on any other app it is 401, as on every other route). An unpublished app is 404.</summary>
public static class ChatEndpoints
{
    public const int MaxBodyBytes = 64 * 1024;
    private const string CallerItem = "mulan.chat.caller";

    public static IEndpointRouteBuilder MapChatApi(this IEndpointRouteBuilder routes)
    {
        // Members pass the /api gate as on any workspace route; share links it lets through, and the group's filter
        // authenticates them (a link only for its own app).
        var chat = routes.MapGroup("/api/chat/{slug}").WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes)).RequireAccess(RequiredAccess.MemberOrShareLink)
            .AddEndpointFilter(AuthenticateAsync);
        chat.MapGet("/", AppAsync).WithName("ChatApp").WithSummary("The app as the chat page shows it: name, kind, greeting, suggested questions.");
        chat.MapPost("/messages", MessageAsync).WithName("ChatMessage")
            .WithSummary("Send a message; the answer streams back as text/event-stream (delta, step, done with citations and the conversation id, error).");
        chat.MapGet("/conversations", ConversationsAsync).WithName("ChatConversations").WithSummary("The caller's own conversations with the app, newest first.");
        chat.MapGet("/conversations/{id}", ConversationAsync).WithName("ChatConversation").WithSummary("One of the caller's conversations, with its messages.");
        chat.MapPost("/feedback", FeedbackAsync).WithName("ChatFeedback").WithSummary("Thumbs up or down on one of the caller's answers, by request id.");
        chat.MapGet("/passages/{id}", PassageAsync).WithName("ChatPassage").WithSummary("A cited passage and its document title, from the app's knowledge bases only.");
        return routes;
    }

    internal static ChatCaller Caller(HttpContext ctx) => (ChatCaller)ctx.Items[CallerItem]!;

    private static async ValueTask<object?> AuthenticateAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var (caller, problem) = await http.RequestServices.GetRequiredService<ChatAccess>().ResolveAsync(http);
        if (problem is not null)
        {
            return problem;
        }
        // A share token of another app gets what any unknown credential gets.
        if (caller!.Share is { } share
            && await http.RequestServices.GetRequiredService<ChatApps>().IsOtherAppAsync(share, http.GetRouteValue("slug")?.ToString() ?? "", http.RequestAborted))
        {
            return ChatAccess.Unauthorized(http);
        }
        http.Items[CallerItem] = caller;
        return await next(context);
    }

    private static IResult NoApp(string slug) => TypedResults.Problem(statusCode: 404, detail: $"No published app '{slug}'.");

    /// <summary>The app the request is for: the published version, or (for a manager who asks) another version.</summary>
    private static async Task<(PublishedApp? App, PublishedApp? Pinned, IResult? Problem)> AppForAsync(HttpContext ctx, string slug, int? version)
    {
        var caller = Caller(ctx);
        var apps = ctx.RequestServices.GetRequiredService<ChatApps>();
        if (version is null)
        {
            return await apps.FindAsync(caller, slug, ctx) is { } published ? (published, null, null) : (null, null, NoApp(slug));
        }
        if (!caller.CanManage)
        {
            return (null, null, TypedResults.Problem(statusCode: 403, detail: "Trying an unpublished version needs an administrator of the workspace."));
        }
        if (await apps.FindAnyAsync(caller, slug, ctx) is not { } app
            || await ctx.RequestServices.GetRequiredService<AppDirectory>().VersionAsync(app, version.Value, ctx.RequestAborted) is not { } pinned)
        {
            return (null, null, TypedResults.Problem(statusCode: 404, detail: $"No version {version} of app '{slug}'."));
        }
        return (pinned, pinned, null);
    }

    private static int? VersionQuery(HttpContext ctx, Dictionary<string, string[]> errors) =>
        errors.QueryInt("version", ctx.Request.Query["version"].Count > 0 ? ctx.Request.Query["version"].ToString() : null, 1, 1_000_000);

    private static async Task<IResult> AppAsync(string slug, HttpContext ctx)
    {
        var errors = new Dictionary<string, string[]>();
        var version = VersionQuery(ctx, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var (app, _, problem) = await AppForAsync(ctx, slug, version);
        if (problem is not null)
        {
            return problem;
        }
        var d = app!.Definition;
        return TypedResults.Ok(new
        {
            name = d.Name.Length > 0 ? d.Name : app.App.Name, slug = app.App.Slug, kind = d.Kind, description = d.Description,
            greeting = d.OpeningMessage, suggested = d.SuggestedQuestions ?? [], version = app.Version,
        });
    }

    private static async Task<IResult> MessageAsync(string slug, HttpContext ctx, IOptions<ChatPageOptions> options, RateLimiter limits, ChatRelay relay)
    {
        var (body, bad) = await JsonBody.ReadObjectAsync(ctx.Request, ctx.RequestAborted, "{message, conversationId?}", maxDepth: 4);
        if (bad is not null)
        {
            return bad;
        }
        var errors = new Dictionary<string, string[]>();
        var max = options.Value.MaxMessageCharacters;
        foreach (var (name, _) in body!)
        {
            if (name is not ("message" or "conversationId" or "version"))
            {
                errors.AddError("$." + name, "not a field of a chat message (message, conversationId, version)");
            }
        }
        var text = body["message"] is JsonValue m && m.TryGetValue<string>(out var s) ? s.Trim() : null;
        if (string.IsNullOrEmpty(text))
        {
            errors.AddError("$.message", "required: the text of the message");
        }
        else if (text.Length > max)
        {
            errors.AddError("$.message", $"at most {max.ToString("N0", CultureInfo.InvariantCulture)} characters (got {text.Length.ToString("N0", CultureInfo.InvariantCulture)})");
        }
        string? conversation = null;
        if (body["conversationId"] is { } c)
        {
            conversation = c is JsonValue cv && cv.TryGetValue<string>(out var cs) && cs.Length is > 0 and <= 64 ? cs : null;
            if (conversation is null)
            {
                errors.AddError("$.conversationId", "must be the id of one of your conversations with this app");
            }
        }
        int? version = null;
        if (body["version"] is { } v)
        {
            version = v is JsonValue vv && vv.TryGetValue<int>(out var n) && n >= 1 ? n : null;
            if (version is null)
            {
                errors.AddError("$.version", "must be a version number (1 or more)");
            }
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var (app, pinned, problem) = await AppForAsync(ctx, slug, version);
        if (problem is not null)
        {
            return problem;
        }
        var caller = Caller(ctx);
        if (caller.Share is { } share)
        {
            var rpm = options.Value.ShareRequestsPerMinute;
            var check = await limits.TryAcquireAsync("chat-share:" + share.Id, "requests", rpm, 1);
            RateLimiter.WriteHeaders(ctx.Response.Headers, check);
            if (!check.Admitted)
            {
                var seconds = (int)Math.Ceiling(check.Reset.TotalSeconds);
                ctx.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Problem(statusCode: 429, detail: $"This share link may send {rpm} messages a minute. Try again in {seconds}s.",
                    extensions: new Dictionary<string, object?> { ["code"] = "rate_limit_exceeded" });
            }
        }
        await relay.RelayAsync(ctx, new ChatMessage(app!, caller.EndUser, text!, conversation, pinned));
        return Results.Empty;
    }

    private static async Task<IResult> ConversationsAsync(string slug, string? page, HttpContext ctx, IAppStore store)
    {
        var errors = new Dictionary<string, string[]>();
        var p = errors.QueryInt("page", page, 1, 1_000_000) ?? 1;
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var (app, _, problem) = await AppForAsync(ctx, slug, null);
        if (problem is not null)
        {
            return problem;
        }
        var (items, count) = await store.ConversationsAsync(app!.App.Id, Caller(ctx).EndUser, p, 50, ctx.RequestAborted);
        return TypedResults.Ok(new
        {
            conversations = items.Select(c => new { id = c.Id, title = c.Title, messages = c.Messages, createdAt = c.CreatedAt, updatedAt = c.UpdatedAt }),
            page = p, pageSize = 50, count,
        });
    }

    private static async Task<IResult> ConversationAsync(string slug, string id, HttpContext ctx, IAppStore store)
    {
        var (app, _, problem) = await AppForAsync(ctx, slug, null);
        if (problem is not null)
        {
            return problem;
        }
        if (id.Length > 64 || await store.FindConversationAsync(id, ctx.RequestAborted) is not { } c || c.AppId != app!.App.Id || c.EndUser != Caller(ctx).EndUser)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No conversation '{(id.Length > 64 ? id[..64] : id)}' of yours with this app.");
        }
        var messages = await store.MessagesAsync(c.Id, ctx.RequestAborted);
        return TypedResults.Ok(new
        {
            id = c.Id, title = c.Title, createdAt = c.CreatedAt, updatedAt = c.UpdatedAt,
            messages = messages.Select(x => new
            {
                role = x.Role, content = x.Content, requestId = x.Role == "assistant" ? x.RequestId : null, at = x.At,
                citations = x.Citations is null ? null : ChatRelay.Citations(JsonNode.Parse(x.Citations)),
            }),
        });
    }

    public sealed record FeedbackBody(string? RequestId, string? Rating, string? Comment);

    private static async Task<IResult> FeedbackAsync(string slug, HttpContext ctx, IAppStore store, TimeProvider time)
    {
        FeedbackBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<FeedbackBody>(ctx.Request.Body, FeedbackJson, ctx.RequestAborted);
        }
        catch (JsonException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [e.Path ?? "$"] = ["not a feedback object {requestId, rating, comment?}"] });
        }
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body?.RequestId) || body.RequestId.Length > 64)
        {
            errors.AddError("$.requestId", "required: the requestId of the answer (its done event)");
        }
        if (body?.Rating is not ("up" or "down"))
        {
            errors.AddError("$.rating", "must be up or down");
        }
        if (body?.Comment is { Length: > 4000 })
        {
            errors.AddError("$.comment", "at most 4,000 characters");
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var (app, _, problem) = await AppForAsync(ctx, slug, null);
        if (problem is not null)
        {
            return problem;
        }
        if (await store.FindAnswerAsync(body!.RequestId!, ctx.RequestAborted) is not { } answer || answer.AppId != app!.App.Id || answer.EndUser != Caller(ctx).EndUser)
        {
            return TypedResults.Problem(statusCode: 404, detail: "No answer of this app to you with that request id.");
        }
        var feedback = new AppFeedback(answer.RequestId, answer.AppId, answer.AppVersion, answer.WorkspaceId, answer.EndUser, body.Rating!,
            string.IsNullOrWhiteSpace(body.Comment) ? null : body.Comment, null, answer.Question, answer.Answer, time.GetUtcNow());
        await store.SaveFeedbackAsync(feedback, ctx.RequestAborted);
        return TypedResults.Ok(new { requestId = feedback.RequestId, rating = feedback.Rating, comment = feedback.Comment });
    }

    private static readonly JsonSerializerOptions FeedbackJson = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    private static async Task<IResult> PassageAsync(string slug, string id, HttpContext ctx, IChatStore chat, IKnowledgeStore knowledge)
    {
        var errors = new Dictionary<string, string[]>();
        var chunkId = errors.QueryInt("id", id, 1, int.MaxValue);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var (app, _, problem) = await AppForAsync(ctx, slug, null);
        if (problem is not null)
        {
            return problem;
        }
        var passage = await chat.FindPassageAsync(chunkId!.Value, ctx.RequestAborted);
        var allowed = false;
        foreach (var named in app!.Definition.KnowledgeBases ?? [])
        {
            if (passage is not null && await knowledge.FindKnowledgeBaseAsync(named, app.App.WorkspaceId, ctx.RequestAborted) is { } kb && kb.Id == passage.KnowledgeBaseId)
            {
                allowed = true;
                break;
            }
        }
        if (!allowed)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No passage {id} in this app's knowledge bases.");
        }
        return TypedResults.Ok(new
        {
            id = passage!.Id, documentId = passage.DocumentId, title = passage.DocumentTitle, section = passage.Section, page = passage.Page, text = passage.Text,
        });
    }
}
