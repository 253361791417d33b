using System.Text.Json;
using Mulan.Access;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway;

public static class GatewayEndpoints
{
    /// <summary>Maps the OpenAI-compatible surface. Handlers are raw request delegates: the hot path skips
    /// model binding and writes bytes itself.</summary>
    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1");
        v1.MapPost("/chat/completions", (HttpContext ctx, GatewayProxy proxy) => proxy.HandleAsync(ctx, GatewayEndpoint.ChatCompletions))
            .WithName("ChatCompletions").WithSummary("OpenAI-compatible chat completions, streaming or not.");
        v1.MapPost("/embeddings", (HttpContext ctx, GatewayProxy proxy) => proxy.HandleAsync(ctx, GatewayEndpoint.Embeddings))
            .WithName("Embeddings").WithSummary("OpenAI-compatible embeddings.");
        v1.MapGet("/models", ListModelsAsync).WithName("ListModels").WithSummary("The models this key may use.");
        v1.MapGet("/models/{id}", GetModelAsync).WithName("GetModel").WithSummary("One model this key may use.");
        v1.MapFallback(FallbackAsync);
        return app;
    }

    // The fallback also catches a known path asked with another method (it wins over routing's 405): say which one it takes.
    private static Task FallbackAsync(HttpContext ctx)
    {
        if (ctx.Request.Path.Value is "/v1/chat/completions" or "/v1/embeddings" or "/v1/audio/transcriptions" or "/v1/audio/speech" or "/v1/ocr")
        {
            ctx.Response.Headers.Allow = "POST";
            return new OpenAIError(405, $"{ctx.Request.Path} does not accept {ctx.Request.Method}; it accepts POST.", "invalid_request_error", null, "method_not_allowed")
                .WriteAsync(ctx.Response);
        }
        return OpenAIError.NotFound(ctx.Request.Path).WriteAsync(ctx.Response);
    }

    private static async Task ListModelsAsync(HttpContext ctx, AccessService access, CatalogState catalog, IAppModels apps)
    {
        if (Authenticate(ctx, access) is not { } key)
        {
            await OpenAIError.InvalidKey().WriteAsync(ctx.Response);
            return;
        }
        ctx.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(ctx.Response.Body);
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        foreach (var route in catalog.Current.Models.Values.Where(m => key.AllowsModel(m.Name)).OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            WriteModel(w, route.Name, route.CreatedAt, route.Kind);
        }
        // Published apps of the key's workspace, after the routes: "app:" sorts after every route name a client looks for first.
        foreach (var (name, created) in apps.ModelsFor(key))
        {
            WriteModel(w, name, created);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static async Task GetModelAsync(HttpContext ctx, string id, AccessService access, CatalogState catalog, IAppModels apps)
    {
        if (Authenticate(ctx, access) is not { } key)
        {
            await OpenAIError.InvalidKey().WriteAsync(ctx.Response);
            return;
        }
        (string Name, DateTimeOffset CreatedAt, ModelKind Kind)? found = catalog.Current.Models.TryGetValue(id, out var route) && key.AllowsModel(id)
            ? (route.Name, route.CreatedAt, route.Kind)
            : apps.ModelsFor(key).Where(a => a.Name == id).Select(a => ((string, DateTimeOffset, ModelKind)?)(a.Name, a.CreatedAt, ModelKind.Chat)).FirstOrDefault();
        if (found is not { } model)
        {
            await OpenAIError.ModelNotFound(id).WriteAsync(ctx.Response);
            return;
        }
        ctx.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(ctx.Response.Body);
        WriteModel(w, model.Name, model.CreatedAt, model.Kind);
    }

    private static void WriteModel(Utf8JsonWriter w, string name, DateTimeOffset createdAt, ModelKind kind = ModelKind.Chat)
    {
        w.WriteStartObject();
        w.WriteString("id", name);
        w.WriteString("object", "model");
        w.WriteNumber("created", createdAt.ToUnixTimeSeconds());
        w.WriteString("owned_by", "mulan");
        if (kind != ModelKind.Chat)
        {
            // Speech and OCR routes say what they are, so that a client can pick one (chat routes keep OpenAI's exact shape).
            w.WriteString("kind", ModelKinds.Name(kind));
        }
        w.WriteEndObject();
    }

    private static VirtualKey? Authenticate(HttpContext ctx, AccessService access)
    {
        ctx.Response.Headers[GatewayProxy.RequestIdHeader] = KeyMaterial.NewId("req");
        return access.Authenticate(BearerToken.Of(ctx.Request));
    }
}
