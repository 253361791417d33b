using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Mulan.Tests.Support;

namespace Mulan.Tests.Knowledge.Lifecycle;

/// <summary>What the lifecycle tests ask of a running server and of its data folder.</summary>
internal static class LifecycleTestKit
{
    public static async Task<JsonObject> UploadAsync(HttpClient http, string kb, string fileName, byte[] content, HttpStatusCode expected = HttpStatusCode.Accepted)
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(content), "files", fileName } };
        var response = await http.PostAsync($"api/knowledge-bases/{kb}/documents", form);
        Assert.True(expected == response.StatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!.AsObject();
    }

    public static Task<JsonObject> UploadAsync(HttpClient http, string kb, string fileName, string text, HttpStatusCode expected = HttpStatusCode.Accepted) =>
        UploadAsync(http, kb, fileName, Encoding.UTF8.GetBytes(text), expected);

    public static async Task<JsonArray> SearchAsync(HttpClient http, string kb, string query, string? mode = null, int topK = 50)
    {
        var response = await http.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query, topK, mode });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["results"]!.AsArray();
    }

    public static async Task<JsonArray> DocumentsAsync(HttpClient http, string kb, string query = "")
    {
        var page = await http.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}/documents?pageSize=1000{query}");
        return page!["documents"]!.AsArray();
    }

    /// <summary>Waits until no document of the knowledge base is queued or processing.</summary>
    public static async Task WaitIdleAsync(HttpClient http, string kb)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await DocumentsAsync(http, kb)).Any(d => d!["status"]!.GetValue<string>() is "queued" or "processing"))
        {
            Assert.True(DateTime.UtcNow < deadline, "ingestion did not finish");
            await Task.Delay(50);
        }
    }

    /// <summary>Rows of a document in storage: (documents, chunks, vectors).</summary>
    public static async Task<(long Documents, long Chunks, long Vectors)> RowsAsync(MulanHost host, string column, string value)
    {
        await using System.Data.Common.DbConnection db = host.Postgres is { } pg
            ? new Npgsql.NpgsqlConnection(pg)
            : new SqliteConnection($"Data Source={Path.Combine(host.DataDirectory, "mulan.db")};Pooling=False");
        await db.OpenAsync();
        async Task<long> CountAsync(string sql)
        {
            await using var command = db.CreateCommand();
            command.CommandText = sql;
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@v";
            parameter.Value = value;
            command.Parameters.Add(parameter);
            return (long)(await command.ExecuteScalarAsync())!;
        }
        var documentColumn = column == "document" ? "id" : "kb_id";
        var chunkColumn = column == "document" ? "document_id" : "kb_id";
        return (await CountAsync($"SELECT count(*) FROM documents WHERE {documentColumn} = @v"),
            await CountAsync($"SELECT count(*) FROM chunks WHERE {chunkColumn} = @v"),
            await CountAsync($"SELECT count(*) FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id WHERE c.{chunkColumn} = @v"));
    }

    public static bool FileExists(MulanHost host, string documentId) => File.Exists(Path.Combine(host.DataDirectory, "documents", documentId));
}
