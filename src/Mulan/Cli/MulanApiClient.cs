using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.Cli;

/// <summary>The CLI's view of the management API. 4xx answers become <see cref="CliUserException"/> with the
/// server's problem detail; transport failures and 5xx stay system errors.</summary>
public sealed class MulanApiClient : IDisposable
{
    private readonly HttpClient _http;

    public MulanApiClient(ClientSettings settings) : this(settings, settings.ResolvedAdminKey)
    {
    }

    /// <param name="bearer">the key to call with: the administrator's, or a virtual key.</param>
    public MulanApiClient(ClientSettings settings, string bearer)
    {
        _http = new HttpClient { BaseAddress = settings.ServerUri, Timeout = TimeSpan.FromSeconds(100) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
    }

    public Task<JsonNode> GetAsync(string path, CancellationToken ct) => SendAsync(new HttpRequestMessage(HttpMethod.Get, path), ct);

    public Task<JsonNode> PostAsync(string path, object body, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: new JsonSerializerOptions(JsonSerializerDefaults.Web)) }, ct);

    public Task<JsonNode> PatchAsync(string path, object body, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Patch, path) { Content = JsonContent.Create(body) }, ct);

    /// <summary>Sends a JSON body as is (a merge patch must not turn a field left out into an explicit null).</summary>
    public Task<JsonNode> SendJsonAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(method, path)
        {
            Content = body is null ? null : new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        }, ct);

    /// <summary><paramref name="path"/> with the given query parameters; those without a value are left out.</summary>
    public static string WithQuery(string path, params (string Name, string? Value)[] parameters)
    {
        var given = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return given.Count == 0 ? path : path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + string.Join("&", given);
    }

    public Task<JsonNode> DeleteAsync(string path, CancellationToken ct) => SendAsync(new HttpRequestMessage(HttpMethod.Delete, path), ct);

    /// <summary>Uploads one file as multipart/form-data, streamed from disk.</summary>
    /// <param name="name">the name it is uploaded under (a relative path for files of a folder); default the file's name.</param>
    public Task<JsonNode> UploadAsync(string path, string file, CancellationToken ct, string? name = null)
    {
        var content = new MultipartFormDataContent();
        var part = new StreamContent(File.OpenRead(file));
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(part, "files", name ?? Path.GetFileName(file));
        return SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = content }, ct);
    }

    /// <summary>Sends one file as the <paramref name="field"/> part of a multipart form, with text fields (those without a value left out).</summary>
    public Task<JsonNode> SendFormAsync(HttpMethod method, string path, string field, string file, CancellationToken ct, params (string Name, string? Value)[] fields) =>
        SendAsync(new HttpRequestMessage(method, path) { Content = Form(field, file, fields) }, ct);

    private static MultipartFormDataContent Form(string field, string file, (string Name, string? Value)[] fields)
    {
        var content = new MultipartFormDataContent();
        foreach (var (name, value) in fields.Where(f => f.Value is not null))
        {
            content.Add(new StringContent(value!), name);
        }
        var part = new StreamContent(File.OpenRead(file));
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(part, field, Path.GetFileName(file));
        return content;
    }

    /// <summary>Like <see cref="SendFormAsync"/>, for an answer that is text (a transcript as text, srt or vtt).</summary>
    public async Task<string> SendFormTextAsync(string path, string field, string file, CancellationToken ct, params (string Name, string? Value)[] fields)
    {
        using var response = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = Form(field, file, fields) }, ct);
        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadAsStringAsync(ct);
    }

    /// <summary>Posts a file as the raw request body (a package), streamed from disk.</summary>
    public Task<JsonNode> PostFileAsync(string path, string file, string mediaType, CancellationToken ct)
    {
        var content = new StreamContent(File.OpenRead(file));
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = content }, ct);
    }

    /// <summary>GETs a binary answer (a package) into <paramref name="destination"/>.</summary>
    public async Task DownloadAsync(string path, Stream destination, CancellationToken ct)
    {
        using var response = await _http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, ct);
        await EnsureSuccessAsync(response, ct);
        await response.Content.CopyToAsync(destination, ct);
    }

    /// <summary>POSTs a JSON body and returns the response once its headers are in, for reading a stream (SSE) as it arrives.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, JsonNode body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        try
        {
            await EnsureSuccessAsync(response, ct);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>The <c>data:</c> events of a server-sent event stream as JSON, until <c>[DONE]</c>.</summary>
    public static async IAsyncEnumerable<JsonNode> ReadEventsAsync(HttpResponseMessage response, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue;
            }
            var data = line["data:".Length..].Trim();
            if (data == "[DONE]")
            {
                yield break;
            }
            yield return JsonNode.Parse(data) ?? throw new HttpRequestException("The server sent an empty event.");
        }
    }

    private async Task<JsonNode> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using (request)
        {
            using var response = await _http.SendAsync(request, ct);
            await EnsureSuccessAsync(response, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            return string.IsNullOrWhiteSpace(text) ? new JsonObject() : JsonNode.Parse(text) ?? new JsonObject();
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var text = await response.Content.ReadAsStringAsync(ct);
        if ((int)response.StatusCode is >= 400 and < 500)
        {
            throw new CliUserException($"The server refused ({(int)response.StatusCode}): {Describe(text)}", (int)response.StatusCode);
        }
        throw new HttpRequestException($"The server failed ({(int)response.StatusCode}): {Describe(text)}");
    }

    private static string Describe(string body)
    {
        try
        {
            var node = JsonNode.Parse(body);
            // A problem detail of the management API, or the OpenAI error object of the gateway.
            var detail = node?["detail"]?.GetValue<string>() ?? node?["title"]?.GetValue<string>() ?? (node?["error"] as JsonObject)?["message"]?.GetValue<string>() ?? body;
            if (node?["errors"] is JsonObject errors)
            {
                detail += " " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value!.AsArray().Select(v => v!.GetValue<string>()))}"));
            }
            // What a refused deletion still holds (keys, knowledge bases), by name and id.
            foreach (var (field, label) in new[] { ("keys", "keys"), ("knowledgeBases", "knowledge bases") })
            {
                if (node?[field] is JsonArray { Count: > 0 } held)
                {
                    detail += $" {label}: " + string.Join(", ", held.Select(h => $"{h?["name"]} ({h?["id"]})"));
                }
            }
            // What an import still needs: the routes and knowledge bases to map, and what is wrong with the package.
            if (node?["unmapped"] is JsonObject unmapped)
            {
                foreach (var (field, label) in new[] { ("models", "unmapped models"), ("knowledgeBases", "unmapped knowledge bases") })
                {
                    if (unmapped[field] is JsonArray { Count: > 0 } names)
                    {
                        detail += $" {label}: " + string.Join(", ", names.Select(n => n?.ToString()));
                    }
                }
            }
            if (node?["problems"] is JsonArray { Count: > 0 } problems)
            {
                detail += " " + string.Join("; ", problems.Select(p => p?.ToString()));
            }
            return detail;
        }
        catch (JsonException)
        {
            return body.Length > 300 ? body[..300] : body;
        }
    }

    public void Dispose() => _http.Dispose();
}
