using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Tests.Knowledge.Parsing;
using Mulan.Tests.Support;
using static Mulan.Tests.Knowledge.Lifecycle.LifecycleTestKit;

namespace Mulan.Tests.Knowledge.Lifecycle;

public sealed class DocumentLifecycleTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private HttpClient Admin => _host.Admin;

    [Fact]
    public async Task Deleting_a_document_removes_its_chunks_vectors_index_entries_and_file()
    {
        var kb = await KnowledgeApiTests.CreateKbAsync(_host, "docs");
        var keep = (await UploadAsync(Admin, kb, "keep.md", "# Keep\n\nThe canteen serves noodles on Tuesdays."))["id"]!.GetValue<string>();
        var doc = (await UploadAsync(Admin, kb, "travel.md", "# Travel\n\nTrain tickets are booked through the travel desk five days ahead."))["id"]!.GetValue<string>();
        await WaitIdleAsync(Admin, kb);
        Assert.Contains(await SearchAsync(Admin, kb, "train tickets travel desk", "keyword"), r => r!["documentId"]!.GetValue<string>() == doc);
        Assert.Contains(await SearchAsync(Admin, kb, "train tickets travel desk", "vector"), r => r!["documentId"]!.GetValue<string>() == doc);
        Assert.True((await RowsAsync(_host, "document", doc)).Vectors > 0);
        Assert.True(FileExists(_host, doc));

        var response = await Admin.DeleteAsync($"api/knowledge-bases/{kb}/documents/{doc}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([doc], (await response.Content.ReadFromJsonAsync<JsonObject>())!["deleted"]!.AsArray().Select(d => d!.GetValue<string>()));

        foreach (var mode in new[] { "keyword", "vector", "hybrid" })
        {
            Assert.DoesNotContain(await SearchAsync(Admin, kb, "train tickets travel desk", mode), r => r!["documentId"]!.GetValue<string>() == doc);
        }
        Assert.Equal((0, 0, 0), await RowsAsync(_host, "document", doc));
        Assert.False(FileExists(_host, doc));
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"api/knowledge-bases/{kb}/documents/{doc}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.DeleteAsync($"api/knowledge-bases/{kb}/documents/{doc}")).StatusCode);
        Assert.Equal([keep], (await DocumentsAsync(Admin, kb)).Select(d => d!["id"]!.GetValue<string>()));
        Assert.NotEmpty(await SearchAsync(Admin, kb, "canteen noodles", "keyword"));
    }

    [Fact]
    public async Task Documents_deleted_while_queued_or_processing_never_come_back()
    {
        var kb = await KnowledgeApiTests.CreateKbAsync(_host, "race");
        // Long enough that ingestion takes a while, so deletions land in every state: queued, processing, just finished.
        var body = string.Join("\n\n", Enumerable.Range(0, 60).Select(p => $"Paragraph {p} of the quarterly figures mentions zircon{p % 7} and the harbour budget."));
        var deleted = new List<string>();
        var random = new Random(7);
        for (var i = 0; i < 24; i++)
        {
            var id = (await UploadAsync(Admin, kb, $"race-{i}.md", $"# Race {i}\n\nuniqueword{Letters(i)}\n\n{body}"))["id"]!.GetValue<string>();
            await Task.Delay(random.Next(0, 40));
            var response = await Admin.DeleteAsync($"api/knowledge-bases/{kb}/documents/{id}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            deleted.Add(id);
        }
        var survivor = (await UploadAsync(Admin, kb, "survivor.md", "# Survivor\n\nThe survivor document stays."))["id"]!.GetValue<string>();
        await WaitIdleAsync(Admin, kb);
        await KnowledgeApiTests.WaitForDocumentAsync(Admin, kb, survivor);

        Assert.Equal([survivor], (await DocumentsAsync(Admin, kb)).Select(d => d!["id"]!.GetValue<string>()));
        Assert.Empty(await SearchAsync(Admin, kb, "harbour budget zircon3", "keyword"));
        Assert.All(await SearchAsync(Admin, kb, "quarterly figures harbour budget", "vector"), r => Assert.Equal(survivor, r!["documentId"]!.GetValue<string>()));
        foreach (var id in deleted)
        {
            Assert.Equal((0, 0, 0), await RowsAsync(_host, "document", id));
            Assert.False(FileExists(_host, id), id);
        }
        Assert.Equal(1, (await RowsAsync(_host, "kb", kb)).Documents);
        Assert.DoesNotContain("Error Mulan", _host.Logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Critical", _host.Logs.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_document_deleted_while_the_worker_embeds_it_is_dropped_when_the_worker_finishes()
    {
        var created = await Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "slow", embeddingModel = "embed" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var kb = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        // The worker's embedding call waits two seconds at the vendor: the document is "processing" all that time.
        _host.Vendor.Enqueue(new Mulan.FakeVendor.FakeFault.SlowFirstByte(TimeSpan.FromSeconds(2)));
        var doc = (await UploadAsync(Admin, kb, "slow.md", "# Slow\n\nThe slow document about glaciers."))["id"]!.GetValue<string>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}/documents/{doc}"))!["status"]!.GetValue<string>() != "processing")
        {
            Assert.True(DateTime.UtcNow < deadline, "never processing");
            await Task.Delay(20);
        }

        Assert.Equal(HttpStatusCode.OK, (await Admin.DeleteAsync($"api/knowledge-bases/{kb}/documents/{doc}")).StatusCode);
        deadline = DateTime.UtcNow.AddSeconds(15);
        while (!_host.Logs.Text.Contains($"Document {doc} was deleted while it was being ingested", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "the worker did not finish");
            await Task.Delay(50);
        }
        Assert.Empty(await DocumentsAsync(Admin, kb));
        Assert.Empty(await SearchAsync(Admin, kb, "glaciers", "keyword"));
        Assert.Equal((0, 0, 0), await RowsAsync(_host, "document", doc));
        Assert.False(FileExists(_host, doc));
        // The worker carries on with the next document.
        var next = (await UploadAsync(Admin, kb, "next.md", "# Next\n\nThe next document about fjords."))["id"]!.GetValue<string>();
        Assert.Equal("ready", (await KnowledgeApiTests.WaitForDocumentAsync(Admin, kb, next))["status"]!.GetValue<string>());
    }

    private static string Letters(int n) => n < 26 ? ((char)('a' + n)).ToString() : Letters(n / 26 - 1) + (char)('a' + n % 26);

    [Fact]
    public async Task Uploading_the_same_name_replaces_the_document_and_the_same_bytes_are_unchanged()
    {
        var kb = await KnowledgeApiTests.CreateKbAsync(_host, "versions");
        const string v1 = "# Leave\n\nEmployees get fifteen days of paid leave.";
        const string v2 = "# Leave\n\nEmployees get twenty days of paid leave.";
        var first = await UploadAsync(Admin, kb, "leave.md", v1);
        var firstId = first["id"]!.GetValue<string>();
        Assert.Null(first["replaces"]);
        await KnowledgeApiTests.WaitForDocumentAsync(Admin, kb, firstId);

        var same = await UploadAsync(Admin, kb, "leave.md", v1, HttpStatusCode.Accepted);
        Assert.Equal("unchanged", same["status"]!.GetValue<string>());
        Assert.Equal(firstId, same["id"]!.GetValue<string>());
        Assert.Single(await DocumentsAsync(Admin, kb));
        Assert.Single(Directory.GetFiles(Path.Combine(_host.DataDirectory, "documents")));

        var second = await UploadAsync(Admin, kb, "leave.md", v2);
        Assert.Equal("queued", second["status"]!.GetValue<string>());
        Assert.Equal(firstId, second["replaces"]!.GetValue<string>());
        var secondId = second["id"]!.GetValue<string>();
        Assert.NotEqual(firstId, secondId);
        var ready = await KnowledgeApiTests.WaitForDocumentAsync(Admin, kb, secondId);
        Assert.Equal("ready", ready["status"]!.GetValue<string>());
        Assert.Null(ready["replaces"]);
        Assert.Equal("leave.md", ready["origin"]!.GetValue<string>());

        Assert.Equal([secondId], (await DocumentsAsync(Admin, kb)).Select(d => d!["id"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"api/knowledge-bases/{kb}/documents/{firstId}")).StatusCode);
        var results = await SearchAsync(Admin, kb, "days of paid leave");
        Assert.All(results, r => Assert.Equal(secondId, r!["documentId"]!.GetValue<string>()));
        Assert.Contains("twenty", results[0]!["text"]!.GetValue<string>());
        Assert.Equal((0, 0, 0), await RowsAsync(_host, "document", firstId));
        Assert.False(FileExists(_host, firstId));

        // Another name is another document.
        var other = await UploadAsync(Admin, kb, "leave-2.md", v2);
        Assert.Null(other["replaces"]);
        await WaitIdleAsync(Admin, kb);
        Assert.Equal(2, (await DocumentsAsync(Admin, kb)).Count);
    }

    [Fact]
    public async Task A_replacement_that_fails_leaves_the_old_version_searchable_with_the_failure_visible()
    {
        var kb = await KnowledgeApiTests.CreateKbAsync(_host, "fails");
        var pdf = PdfFiles.Report(null);
        var good = (await UploadAsync(Admin, kb, "report.pdf", pdf))["id"]!.GetValue<string>();
        Assert.Equal("ready", (await KnowledgeApiTests.WaitForDocumentAsync(Admin, kb, good))["status"]!.GetValue<string>());

        var broken = await UploadAsync(Admin, kb, "report.pdf", [0x25, 0x50, 0x44, 0x46, 0x2D, 0x31, 0x2E, 0x37, 0x0A, 0x31, 0x20, 0x30]);
        Assert.Equal(good, broken["replaces"]!.GetValue<string>());
        var failed = await KnowledgeApiTests.WaitForDocumentAsync(Admin, kb, broken["id"]!.GetValue<string>());
        Assert.Equal("failed", failed["status"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(failed["error"]!.GetValue<string>()));
        Assert.Equal(good, failed["replaces"]!.GetValue<string>());

        Assert.Equal("ready", (await Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}/documents/{good}"))!["status"]!.GetValue<string>());
        Assert.Contains(await SearchAsync(Admin, kb, "revenue grew twelve percent"), r => r!["documentId"]!.GetValue<string>() == good);
        Assert.True(FileExists(_host, good));
        var failures = await DocumentsAsync(Admin, kb, "&status=failed");
        Assert.Equal(broken["id"]!.GetValue<string>(), Assert.Single(failures)!["id"]!.GetValue<string>());

        // The next upload supersedes the failed attempt; the same bytes as the ready version are unchanged.
        var again = await UploadAsync(Admin, kb, "report.pdf", pdf, HttpStatusCode.Accepted);
        Assert.Equal("unchanged", again["status"]!.GetValue<string>());
        Assert.Equal([broken["id"]!.GetValue<string>()], again["superseded"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal([good], (await DocumentsAsync(Admin, kb)).Select(d => d!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_search_during_replacements_sees_exactly_one_version_every_time()
    {
        var kb = await KnowledgeApiTests.CreateKbAsync(_host, "swap");
        static string Version(int v) => string.Join("\n\n", Enumerable.Range(0, 6).Select(s =>
            $"## Part {s}\n\nThe lighthouse keeper logbook, version {v}, part {s}: " + string.Join(" ", Enumerable.Repeat($"entry{v}x{s}", 40))));
        var current = (await UploadAsync(Admin, kb, "logbook.md", Version(0)))["id"]!.GetValue<string>();
        var chunks = (await KnowledgeApiTests.WaitForDocumentAsync(Admin, kb, current))["chunks"]!.GetValue<int>();
        Assert.True(chunks >= 6, $"{chunks} chunks");

        using var stop = new CancellationTokenSource();
        var seen = 0;
        async Task SearchLoopAsync(string mode)
        {
            while (!stop.IsCancellationRequested)
            {
                var results = await SearchAsync(Admin, kb, "lighthouse keeper logbook", mode);
                // Every chunk of exactly one version: never a mix of two, never none.
                Assert.Single(results.Select(r => r!["documentId"]!.GetValue<string>()).Distinct());
                Assert.Equal(chunks, results.Count);
                Interlocked.Increment(ref seen);
            }
        }
        var searches = new[] { SearchLoopAsync("keyword"), SearchLoopAsync("hybrid") };
        for (var v = 1; v <= 6; v++)
        {
            var next = await UploadAsync(Admin, kb, "logbook.md", Version(v));
            Assert.Equal(current, next["replaces"]!.GetValue<string>());
            current = next["id"]!.GetValue<string>();
            Assert.Equal("ready", (await KnowledgeApiTests.WaitForDocumentAsync(Admin, kb, current))["status"]!.GetValue<string>());
        }
        await stop.CancelAsync();
        await Task.WhenAll(searches);
        Assert.True(seen > 10, $"{seen} searches");
        Assert.Contains("entry6x0", (await SearchAsync(Admin, kb, "entry6x0", "keyword"))[0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Renaming_a_document_shows_in_results_and_survives_a_new_version()
    {
        var kb = await KnowledgeApiTests.CreateKbAsync(_host, "titles");
        var doc = (await UploadAsync(Admin, kb, "benefits.md", "# Benefits\n\nThe gym subsidy is fifty euros a month."))["id"]!.GetValue<string>();
        await KnowledgeApiTests.WaitForDocumentAsync(Admin, kb, doc);

        var response = await Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}/documents/{doc}", new { title = "Staff benefits 2026" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Staff benefits 2026", (await response.Content.ReadFromJsonAsync<JsonObject>())!["title"]!.GetValue<string>());
        Assert.Equal("Staff benefits 2026", (await SearchAsync(Admin, kb, "gym subsidy"))[0]!["title"]!.GetValue<string>());

        var next = (await UploadAsync(Admin, kb, "benefits.md", "# Benefits\n\nThe gym subsidy is sixty euros a month."))["id"]!.GetValue<string>();
        Assert.Equal("Staff benefits 2026", (await KnowledgeApiTests.WaitForDocumentAsync(Admin, kb, next))["title"]!.GetValue<string>());
        Assert.Equal("Staff benefits 2026", (await SearchAsync(Admin, kb, "gym subsidy"))[0]!["title"]!.GetValue<string>());

        foreach (var bad in new object[] { new { title = "" }, new { title = new string('x', 301) }, new { title = "a\u0001b" }, new { } })
        {
            var refused = await Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}/documents/{next}", bad);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.NotNull((await refused.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["title"]);
        }
        Assert.Equal("Staff benefits 2026", (await Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}/documents/{next}"))!["title"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}/documents/doc_nope", new { title = "x" })).StatusCode);
    }

    [Fact]
    public async Task Document_listing_pages_and_filters_and_refuses_bad_parameters()
    {
        var kb = await KnowledgeApiTests.CreateKbAsync(_host, "paging");
        for (var i = 0; i < 5; i++)
        {
            await UploadAsync(Admin, kb, $"note-{i}.md", $"# Note {i}\n\nNote number {i}.");
        }
        await UploadAsync(Admin, kb, "broken.pdf", [0x25, 0x50, 0x44, 0x46]);
        await WaitIdleAsync(Admin, kb);

        var page = (await Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}/documents?page=2&pageSize=2"))!;
        Assert.Equal(6, page["count"]!.GetValue<int>());
        Assert.Equal(["note-2.md", "note-3.md"], page["documents"]!.AsArray().Select(d => d!["source"]!.GetValue<string>()));
        Assert.Equal(["broken.pdf"], (await DocumentsAsync(Admin, kb, "&status=failed")).Select(d => d!["source"]!.GetValue<string>()));
        Assert.Equal(["note-4.md"], (await DocumentsAsync(Admin, kb, "&source=note-4.md")).Select(d => d!["source"]!.GetValue<string>()));
        Assert.Equal(100, (await Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}/documents"))!["pageSize"]!.GetValue<int>());

        foreach (var (query, field) in new[] { ("status=done", "status"), ("page=0", "page"), ("pageSize=1001", "pageSize"), ("pageSize=x", "pageSize"), ("page=-1", "page") })
        {
            var response = await Admin.GetAsync($"api/knowledge-bases/{kb}/documents?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]![field]);
        }
    }
}
