using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Mulan.Tests.Support;

namespace Mulan.Tests.Knowledge;

/// <summary>The ingestion queue is durable: a stop in the middle of 200 documents loses and duplicates nothing.</summary>
public sealed class IngestionRestartTests
{
    // A word that exists once in the whole corpus (letters only, so every analyzer keeps it whole).
    private static string Marker(int document, int paragraph) => "zq" + Letters(document) + "x" + Letters(paragraph);

    private static string Letters(int n) => n < 26 ? ((char)('a' + n)).ToString() : Letters(n / 26 - 1) + (char)('a' + n % 26);

    [Fact]
    public async Task Restart_mid_ingestion_finishes_every_document_without_duplicate_chunks()
    {
        var data = Directory.CreateTempSubdirectory("mulan-ingest-restart-").FullName;
        var first = await MulanHost.StartAsync(dataDirectory: data);
        var vendor = first.Vendor;
        var kb = await KnowledgeApiTests.CreateKbAsync(first, "bulk");
        for (var i = 0; i < 200; i++)
        {
            // Each document is several chunks long, so a stop can land in the middle of one.
            var text = string.Join("\n\n", Enumerable.Range(0, 12).Select(p => $"第{i}号文件第{p}段，标记 {Marker(i, p)}。Document {i} paragraph {p}. " + new string('木', 120)));
            (await first.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents", new { title = $"doc-{i}.txt", text })).EnsureSuccessStatusCode();
        }
        await first.StopKeepingDataAsync();

        var second = await MulanHost.StartAsync(dataDirectory: data, vendor: vendor);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            JsonArray docs;
            while (true)
            {
                docs = (await second.Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}/documents?pageSize=1000"))!["documents"]!.AsArray();
                if (docs.All(d => d!["status"]!.GetValue<string>() == "ready") || DateTime.UtcNow > deadline)
                {
                    break;
                }
                await Task.Delay(100);
            }
            Assert.Equal(200, docs.Count);
            Assert.All(docs, d => Assert.Equal("ready", d!["status"]!.GetValue<string>()));
            var expected = docs.Sum(d => d!["chunks"]!.GetValue<int>());

            await using System.Data.Common.DbConnection db = second.Postgres is { } pg
                ? new Npgsql.NpgsqlConnection(pg)
                : new SqliteConnection($"Data Source={Path.Combine(data, "mulan.db")};Pooling=False");
            await db.OpenAsync();
            await using var count = db.CreateCommand();
            count.CommandText = "SELECT COUNT(*), COUNT(DISTINCT document_id || ':' || ordinal), COUNT(DISTINCT text) FROM chunks";
            await using var reader = await count.ExecuteReaderAsync();
            await reader.ReadAsync();
            Assert.Equal(expected, reader.GetInt64(0));
            Assert.Equal(expected, reader.GetInt64(1));

            // The search index holds each chunk once too: a query unique to one document returns its chunks only.
            var search = await (await second.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = Marker(7, 3), topK = 50 })).Content.ReadFromJsonAsync<JsonObject>();
            var ids = search!["results"]!.AsArray().Select(r => r!["chunkId"]!.GetValue<long>()).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count());
            Assert.Contains(Marker(7, 3), search["results"]![0]!["text"]!.GetValue<string>());
        }
        finally
        {
            await second.DisposeAsync();
        }
    }
}
