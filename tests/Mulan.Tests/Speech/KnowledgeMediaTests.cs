using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Knowledge;
using Mulan.Tests.Support;

namespace Mulan.Tests.Speech;

/// <summary>Knowledge bases ingest audio through their transcription route and scans through their OCR route, over the
/// gateway: the work is metered on the workspace's knowledge key, like embeddings.</summary>
public sealed class KnowledgeMediaTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync(SpeechTestKit.Catalog);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<string> CreateAsync(object body)
    {
        using var response = await _host.Admin.PostAsJsonAsync("api/knowledge-bases", body);
        var json = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, json?.ToJsonString());
        return json!["id"]!.GetValue<string>();
    }

    private async Task<JsonObject> UploadAsync(string kb, byte[] file, string name)
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(file), "files", name } };
        using var response = await _host.Admin.PostAsync($"api/knowledge-bases/{kb}/documents", form);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var doc = (await response.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!;
        return await KnowledgeApiTests.WaitForDocumentAsync(_host.Admin, kb, doc["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Audio_is_transcribed_through_the_route_and_found_by_search()
    {
        var kb = await CreateAsync(new { name = "meetings", embeddingModel = "none", transcriptionModel = "asr" });
        var doc = await UploadAsync(kb, SpeechTestKit.Tone(3), "standup.wav");
        Assert.Equal("ready", doc["status"]!.GetValue<string>());
        using var search = await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = "transcript seconds" });
        var results = (await search.Content.ReadFromJsonAsync<JsonObject>())!["results"]!.AsArray();
        Assert.Contains("lasting 3.00 seconds", results[0]!["text"]!.GetValue<string>());
        // The transcription went through the gateway on the workspace's knowledge key, metered by the second.
        var record = Assert.Single(await _host.UsageRecordsAsync(), r => r["endpoint"]!.GetValue<string>() == "audio.transcriptions");
        Assert.StartsWith("service-knowledge-", record["key"]!.GetValue<string>());
        Assert.Equal(3m, record["units"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Audio_without_a_transcription_route_fails_saying_what_to_set()
    {
        var kb = await CreateAsync(new { name = "plain", embeddingModel = "none" });
        var doc = await UploadAsync(kb, SpeechTestKit.Tone(1), "memo.wav");
        Assert.Equal("failed", doc["status"]!.GetValue<string>());
        Assert.Contains("transcriptionModel", doc["error"]!.GetValue<string>());
    }

    [SpeechFact]
    public async Task A_scan_is_read_through_the_ocr_route_chosen_for_the_base()
    {
        var kb = await CreateAsync(new { name = "scans", embeddingModel = "none", ocrModel = "ocr-local" });
        var doc = await UploadAsync(kb, Knowledge.Parsing.OcrSample.Png, "scan.png");
        Assert.Equal("ready", doc["status"]!.GetValue<string>());
        var record = Assert.Single(await _host.UsageRecordsAsync(), r => r["endpoint"]!.GetValue<string>() == "ocr");
        Assert.Equal(0.01m, record["cost"]!["amount"]!.GetValue<decimal>());
        var view = await _host.Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}");
        Assert.Equal("ocr-local", view!["ocrModel"]!.GetValue<string>());
    }

    [Fact]
    public async Task Routes_of_the_wrong_kind_or_unknown_are_refused_and_changeable()
    {
        foreach (var (body, field) in new (object, string)[]
                 {
                     (new { name = "a", ocrModel = "asr" }, "ocrModel"),
                     (new { name = "b", transcriptionModel = "chat" }, "transcriptionModel"),
                     (new { name = "c", transcriptionModel = "no-such-route" }, "transcriptionModel"),
                 })
        {
            using var response = await _host.Admin.PostAsJsonAsync("api/knowledge-bases", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(field, await response.Content.ReadAsStringAsync());
        }
        var kb = await CreateAsync(new { name = "d", embeddingModel = "none" });
        using var patched = await _host.Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { transcriptionModel = "asr-local" });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal("asr-local", (await patched.Content.ReadFromJsonAsync<JsonObject>())!["transcriptionModel"]!.GetValue<string>());
        using var cleared = await _host.Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { transcriptionModel = "none" });
        Assert.Equal("none", (await cleared.Content.ReadFromJsonAsync<JsonObject>())!["transcriptionModel"]!.GetValue<string>());
    }
}
