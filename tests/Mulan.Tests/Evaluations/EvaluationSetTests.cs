using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Mulan.Tests.Support;

namespace Mulan.Tests.Evaluations;

/// <summary><c>/api/evaluations/sets</c>: JSON and file imports, versions, refusals of bad input, workspace scoping.</summary>
public sealed class EvaluationSetTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public static MultipartFormDataContent Upload(string fileName, byte[] data, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(data);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }
        return form;
    }

    private async Task<int> SetCountAsync() => (await _host.Admin.GetFromJsonAsync<JsonObject>("api/evaluations/sets"))!["sets"]!.AsArray().Count;

    [Fact]
    public async Task A_json_set_is_created_and_each_change_is_a_new_version_while_old_versions_stay_readable()
    {
        using var created = await _host.Admin.PostAsJsonAsync("api/evaluations/sets", new
        {
            name = "hr", workspace = "default",
            items = new object[]
            {
                new { question = "年假有几天？", expectedFacts = new[] { "十五天" }, expectedSources = new[] { "年假" }, tags = new[] { "leave" } },
                new { question = "公司股价多少？", shouldRefuse = true },
            },
        });
        var body = await created.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var set = JsonNode.Parse(body)!;
        var id = set["id"]!.GetValue<string>();
        Assert.Equal(1, set["version"]!.GetValue<int>());
        Assert.Equal("all", set["items"]![0]!["expectedFactsMode"]!.GetValue<string>());
        Assert.True(set["items"]![1]!["shouldRefuse"]!.GetValue<bool>());

        using var added = await _host.Admin.PostAsJsonAsync($"api/evaluations/sets/{id}/items", new { items = new[] { new { question = "病假有几天？", expectedFacts = new[] { "十天" } } } });
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        Assert.Equal(2, (await added.Content.ReadFromJsonAsync<JsonObject>())!["version"]!.GetValue<int>());
        using var replaced = await _host.Admin.PutAsJsonAsync($"api/evaluations/sets/{id}", new { items = new[] { new { question = "加班怎么算？" } } });
        Assert.Equal(3, (await replaced.Content.ReadFromJsonAsync<JsonObject>())!["version"]!.GetValue<int>());

        var latest = await _host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/sets/{id}");
        Assert.Equal(3, latest!["version"]!.GetValue<int>());
        Assert.Single(latest["items"]!.AsArray());
        var v2 = await _host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/sets/{id}?version=2");
        Assert.Equal(3, v2!["items"]!.AsArray().Count);
        var v1 = await _host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/sets/{id}?version=1");
        Assert.Equal(2, v1!["items"]!.AsArray().Count);
        using var v9 = await _host.Admin.GetAsync($"api/evaluations/sets/{id}?version=9");
        Assert.Equal(HttpStatusCode.NotFound, v9.StatusCode);
    }

    [Fact]
    public async Task Bad_json_items_are_refused_with_their_paths_and_nothing_is_stored()
    {
        using var bad = await _host.Admin.PostAsJsonAsync("api/evaluations/sets", new
        {
            name = "bad", workspace = "default",
            items = new object[]
            {
                new { question = "ok" },
                new { question = "", expectedFactsMode = "some" },
                new { question = "x", expectedFacts = "not a list", colour = "red" },
            },
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Contains("$.items[1].question", errors.Select(e => e.Key));
        Assert.Contains("$.items[1].expectedFactsMode", errors.Select(e => e.Key));
        Assert.Contains("$.items[2].expectedFacts", errors.Select(e => e.Key));
        Assert.Contains("$.items[2].colour", errors.Select(e => e.Key));
        using var noWorkspace = await _host.Admin.PostAsJsonAsync("api/evaluations/sets", new { name = "x", items = new[] { new { question = "q" } } });
        Assert.Equal(HttpStatusCode.BadRequest, noWorkspace.StatusCode);
        Assert.Equal(0, await SetCountAsync());
    }

    [Fact]
    public async Task Csv_jsonl_and_xlsx_files_import_the_same_columns()
    {
        var csv = "question,expectedFacts,expectedFactsMode,expectedSources,shouldRefuse,tags,referenceAnswer\n" +
                  "年假有几天？,十五天|提前一周,any,年假.md,,leave;hr,员工每年十五天年假。\n" +
                  "\"股价, 今天？\",,,,yes,,\n";
        using var fromCsv = await _host.Admin.PostAsync("api/evaluations/sets", Upload("hr.csv", Encoding.UTF8.GetBytes(csv), ("name", "csv"), ("workspace", "default")));
        var csvBody = await fromCsv.Content.ReadAsStringAsync();
        Assert.True(fromCsv.StatusCode == HttpStatusCode.Created, csvBody);
        var items = JsonNode.Parse(csvBody)!["items"]!.AsArray();
        Assert.Equal(["十五天", "提前一周"], items[0]!["expectedFacts"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal("any", items[0]!["expectedFactsMode"]!.GetValue<string>());
        Assert.Equal(["leave", "hr"], items[0]!["tags"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal("股价, 今天？", items[1]!["question"]!.GetValue<string>());
        Assert.True(items[1]!["shouldRefuse"]!.GetValue<bool>());

        var jsonl = """
            {"question": "年假有几天？", "expectedFacts": ["十五天"]}

            {"question": "股价？", "shouldRefuse": true}
            """;
        using var fromJsonl = await _host.Admin.PostAsync("api/evaluations/sets", Upload("hr.jsonl", Encoding.UTF8.GetBytes(jsonl), ("name", "jsonl"), ("workspace", "default")));
        Assert.Equal(HttpStatusCode.Created, fromJsonl.StatusCode);
        Assert.Equal(2, (await fromJsonl.Content.ReadFromJsonAsync<JsonObject>())!["items"]!.AsArray().Count);

        var xlsx = Workbook(["question", "expectedFacts", "shouldRefuse"], ["年假有几天？", "十五天;提前一周", "false"], ["股价？", "", "true"]);
        using var fromXlsx = await _host.Admin.PostAsync("api/evaluations/sets", Upload("hr.xlsx", xlsx, ("name", "xlsx"), ("workspace", "default")));
        var xlsxBody = await fromXlsx.Content.ReadAsStringAsync();
        Assert.True(fromXlsx.StatusCode == HttpStatusCode.Created, xlsxBody);
        var xi = JsonNode.Parse(xlsxBody)!["items"]!.AsArray();
        Assert.Equal(2, xi[0]!["expectedFacts"]!.AsArray().Count);
        Assert.True(xi[1]!["shouldRefuse"]!.GetValue<bool>());

        // A file as the set's next version.
        var id = JsonNode.Parse(csvBody)!["id"]!.GetValue<string>();
        using var next = await _host.Admin.PutAsync($"api/evaluations/sets/{id}", Upload("more.jsonl", Encoding.UTF8.GetBytes("""{"question": "病假？"}""")));
        Assert.Equal(2, (await next.Content.ReadFromJsonAsync<JsonObject>())!["version"]!.GetValue<int>());
    }

    [Fact]
    public async Task Malformed_files_are_refused_naming_row_and_column_and_nothing_is_imported()
    {
        var csv = "question,shouldRefuse,expectedFactsMode\nfine,no,all\n,maybe,all\nok,yes,sometimes\n";
        using var bad = await _host.Admin.PostAsync("api/evaluations/sets", Upload("bad.csv", Encoding.UTF8.GetBytes(csv), ("name", "bad"), ("workspace", "default")));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key).ToList();
        Assert.Contains("row 3, column question", errors);
        Assert.Contains("row 3, column shouldRefuse", errors);
        Assert.Contains("row 4, column expectedFactsMode", errors);

        using var header = await _host.Admin.PostAsync("api/evaluations/sets", Upload("h.csv", Encoding.UTF8.GetBytes("question,answer\nq,a\n"), ("name", "h"), ("workspace", "default")));
        Assert.Contains("row 1, column B", await header.Content.ReadAsStringAsync());
        using var jsonl = await _host.Admin.PostAsync("api/evaluations/sets", Upload("b.jsonl", Encoding.UTF8.GetBytes("{\"question\": \"a\"}\n{oops\n"), ("name", "j"), ("workspace", "default")));
        Assert.Equal(HttpStatusCode.BadRequest, jsonl.StatusCode);
        Assert.Contains("row 2", await jsonl.Content.ReadAsStringAsync());
        var xlsx = Workbook(["question", "shouldRefuse"], ["a", "perhaps"]);
        using var badXlsx = await _host.Admin.PostAsync("api/evaluations/sets", Upload("b.xlsx", xlsx, ("name", "x"), ("workspace", "default")));
        Assert.Contains("row 2, column shouldRefuse", await badXlsx.Content.ReadAsStringAsync());
        using var notXlsx = await _host.Admin.PostAsync("api/evaluations/sets", Upload("n.xlsx", "not a zip"u8.ToArray(), ("name", "n"), ("workspace", "default")));
        Assert.Equal(HttpStatusCode.BadRequest, notXlsx.StatusCode);
        using var pdf = await _host.Admin.PostAsync("api/evaluations/sets", Upload("n.pdf", "x"u8.ToArray(), ("name", "n"), ("workspace", "default")));
        Assert.Equal(HttpStatusCode.BadRequest, pdf.StatusCode);
        Assert.Equal(0, await SetCountAsync());
    }

    [Fact]
    public async Task A_key_sees_only_its_workspaces_sets()
    {
        using var ws = await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "other" });
        ws.EnsureSuccessStatusCode();
        var mine = _host.Client(await _host.CreateKeyAsync(new { name = "mine" }));
        var theirs = _host.Client(await _host.CreateKeyAsync(new { name = "theirs", workspace = "other" }));
        using var created = await mine.PostAsJsonAsync("api/evaluations/sets", new { name = "own", items = new[] { new { question = "q" } } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NotFound, (await theirs.GetAsync($"api/evaluations/sets/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await theirs.PutAsJsonAsync($"api/evaluations/sets/{id}", new { items = new[] { new { question = "q" } } })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await theirs.DeleteAsync($"api/evaluations/sets/{id}")).StatusCode);
        Assert.Empty((await theirs.GetFromJsonAsync<JsonObject>("api/evaluations/sets"))!["sets"]!.AsArray());
        Assert.Single((await mine.GetFromJsonAsync<JsonObject>("api/evaluations/sets"))!["sets"]!.AsArray());
        using var foreign = await theirs.PostAsJsonAsync("api/evaluations/sets", new { name = "x", workspace = "default", items = new[] { new { question = "q" } } });
        Assert.Equal(HttpStatusCode.BadRequest, foreign.StatusCode);
    }

    public static byte[] Workbook(params string[][] rows)
    {
        using var stream = new MemoryStream();
        using (var doc = SpreadsheetDocument.Create(stream, SpreadsheetDocumentType.Workbook))
        {
            var wb = doc.AddWorkbookPart();
            wb.Workbook = new Workbook();
            var ws = wb.AddNewPart<WorksheetPart>();
            var data = new SheetData();
            for (var r = 0; r < rows.Length; r++)
            {
                var row = new Row { RowIndex = (uint)(r + 1) };
                for (var c = 0; c < rows[r].Length; c++)
                {
                    if (rows[r][c].Length > 0)
                    {
                        row.Append(new Cell { CellReference = $"{(char)('A' + c)}{r + 1}", DataType = CellValues.InlineString, InlineString = new InlineString(new Text(rows[r][c])) });
                    }
                }
                data.Append(row);
            }
            ws.Worksheet = new Worksheet(data);
            wb.Workbook.AppendChild(new Sheets(new Sheet { Id = wb.GetIdOfPart(ws), SheetId = 1, Name = "items" }));
        }
        return stream.ToArray();
    }
}
