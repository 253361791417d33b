using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Mulan.FakeVendor;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Tests.Support;

namespace Mulan.Tests.Governance;

/// <summary>
/// <c>POST /api/reconciliation</c>: a vendor's CSV bill set against the ledger per UTC day and vendor model. The
/// bill is built from the fake vendor's own ledger after real traffic, or crafted against records written straight
/// into the ledger on chosen days.
/// </summary>
public sealed class ReconciliationTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_bill_built_from_the_vendors_own_ledger_matches_after_real_traffic()
    {
        var key = await _host.CreateKeyAsync(new { name = "reconcile" });
        using var http = StreamReading.AbortingClient(_host.BaseUrl, key);
        string[] plan = ["chat", "chat", "chat-stream", "chat-short", "chat-cny", "chat-cny", "embed", "abort", "reset", "fail"];
        foreach (var (kind, i) in plan.Select((k, i) => (k, i)))
        {
            await SendAsync(http, kind, $"question {i}: {new string('x', i * 7)}");
        }
        var records = await _host.WaitForRecordsAsync(plan.Length);
        Assert.Equal(plan.Length, records.Count);
        var bills = await WaitForBillsAsync(plan.Length - 1);

        // The vendor's invoice: one line per request it billed, dated by when Mulan sent it, priced at the deployment's
        // price. A request the vendor refused (fail=500) carries no tokens, and a vendor does not invoice it.
        var at = records.ToDictionary(r => r["requestId"]!.GetValue<string>(), r => r["at"]!.GetValue<DateTimeOffset>());
        var csv = new StringBuilder("date,model,input_tokens,output_tokens,amount,currency\n");
        foreach (var bill in bills.Where(b => b.TotalTokens > 0))
        {
            var price = Prices[bill.Model];
            csv.Append(CultureInfo.InvariantCulture, $"{at[bill.MulanRequestId!].UtcDateTime:yyyy-MM-dd},{bill.Model},{bill.PromptTokens},{bill.CompletionTokens},")
                .Append(CultureInfo.InvariantCulture, $"{Cost.Of(price, bill.PromptTokens, 0, bill.CompletionTokens)},{price.Currency}\n");
        }

        var (status, report) = await PostAsync(csv.ToString());

        Assert.Equal(HttpStatusCode.OK, status);
        var rows = report["rows"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.All(rows, r => Assert.True(r["status"]!.GetValue<string>() == "match", r.ToJsonString()));
        Assert.Equal(bills.Where(b => b.TotalTokens > 0).Select(b => b.Model).Distinct().Order(StringComparer.Ordinal),
            rows.Select(r => r["model"]!.GetValue<string>()).Distinct().Order(StringComparer.Ordinal));
        // The aborted stream (client_aborted) and the reset one (upstream_error) carry tokens and are billed; the
        // refused request is on neither side.
        Assert.Contains(rows, r => r["model"]!.GetValue<string>() == "fake-chat+chunks=40+gap=25");
        Assert.Contains(rows, r => r["model"]!.GetValue<string>() == "fake-chat+chunks=30+reset=5");
        Assert.DoesNotContain(rows, r => r["model"]!.GetValue<string>().Contains("fail", StringComparison.Ordinal));
        foreach (var row in rows)
        {
            var billed = bills.Where(b => b.TotalTokens > 0 && b.Model == row["model"]!.GetValue<string>()).ToList();
            Assert.Equal(billed.Count, row["ledger"]!["requests"]!.GetValue<long>());
            Assert.Equal(billed.Sum(b => (long)b.TotalTokens), row["vendor"]!["tokens"]!.GetValue<long>());
            Assert.Equal(0, row["difference"]!["tokens"]!.GetValue<long>());
            Assert.Equal(0m, row["difference"]!["amount"]!.GetValue<decimal>());
        }
        Assert.Equal("USD", report["currency"]!.GetValue<string>());
        Assert.Equal(["CNY", "USD"], report["totalsByCurrency"]!.AsArray().Select(t => t!["currency"]!.GetValue<string>()));
        Assert.All(report["totalsByCurrency"]!.AsArray(), t => Assert.Equal(0m, t!["difference"]!.GetValue<decimal>()));
        Assert.Equal(0m, report["totals"]!["difference"]!.GetValue<decimal>());
        Assert.True(report["totals"]!["vendorAmount"]!.GetValue<decimal>() > 0);
    }

    [Fact]
    public async Task A_crafted_bill_reports_each_difference_exactly()
    {
        await SeedLedgerAsync();
        const string Bill = """
            date,model,input_tokens,output_tokens,amount
            2025-03-01,fake-chat,1200,600,0.54
            2025-03-02,fake-chat,2400,1070,1.68
            2025-03-04,fake-gone,600,400,0.3
            """;

        var (status, report) = await PostAsync(Bill);

        Assert.Equal(HttpStatusCode.OK, status);
        var expected = JsonNode.Parse("""
            {
              "provider": "fake", "from": "2025-03-01", "to": "2025-03-04", "currency": "USD", "tolerance": 0.01,
              "rows": [
                { "date": "2025-03-01", "model": "fake-chat", "currency": "USD", "status": "match",
                  "vendor": { "tokens": 1800, "inputTokens": 1200, "outputTokens": 600, "amount": 0.54, "lines": [2] },
                  "ledger": { "requests": 2, "inputTokens": 1200, "cachedTokens": 0, "outputTokens": 600, "amount": 0.54 },
                  "difference": { "tokens": 0, "inputTokens": 0, "outputTokens": 0, "amount": 0 } },
                { "date": "2025-03-02", "model": "fake-chat", "currency": "USD", "status": "mismatch",
                  "vendor": { "tokens": 3470, "inputTokens": 2400, "outputTokens": 1070, "amount": 1.68, "lines": [3] },
                  "ledger": { "requests": 3, "inputTokens": 2400, "cachedTokens": 0, "outputTokens": 1070, "amount": 1.63 },
                  "difference": { "tokens": 0, "inputTokens": 0, "outputTokens": 0, "amount": 0.05 } },
                { "date": "2025-03-03", "model": "fake-chat", "currency": "USD", "status": "missing_in_bill",
                  "vendor": null,
                  "ledger": { "requests": 1, "inputTokens": 400, "cachedTokens": 0, "outputTokens": 100, "amount": 0.2 },
                  "difference": { "tokens": -500, "inputTokens": -400, "outputTokens": -100, "amount": -0.2 } },
                { "date": "2025-03-04", "model": "fake-gone", "currency": "USD", "status": "missing_in_ledger",
                  "vendor": { "tokens": 1000, "inputTokens": 600, "outputTokens": 400, "amount": 0.3, "lines": [4] },
                  "ledger": null,
                  "difference": { "tokens": 1000, "inputTokens": 600, "outputTokens": 400, "amount": 0.3 } }
              ],
              "totals": { "vendorAmount": 2.52, "ledgerAmount": 2.37, "difference": 0.15 },
              "totalsByCurrency": [ { "currency": "USD", "vendorAmount": 2.52, "ledgerAmount": 2.37, "difference": 0.15 } ]
            }
            """);
        Assert.True(JsonNode.DeepEquals(expected, report), report.ToJsonString());
    }

    [Fact]
    public async Task The_tolerance_decides_whether_a_small_difference_matches()
    {
        await SeedLedgerAsync();
        const string Bill = "date,model,tokens,amount\n2025-03-02,fake-chat,3470,1.68\n";

        var (_, strict) = await PostAsync(Bill);
        var (_, loose) = await PostAsync(Bill, "provider=fake&tolerance=0.05");
        var (_, exact) = await PostAsync("date,model,tokens,amount\n2025-03-02,fake-chat,3470,1.63\n", "provider=fake&tolerance=0");
        var (_, tokensOff) = await PostAsync("date,model,tokens,amount\n2025-03-02,fake-chat,3471,1.63\n", "provider=fake&tolerance=1");

        Assert.Equal("mismatch", strict["rows"]![0]!["status"]!.GetValue<string>());
        Assert.Equal("match", loose["rows"]![0]!["status"]!.GetValue<string>());
        Assert.Equal(0.05m, loose["tolerance"]!.GetValue<decimal>());
        Assert.Equal("match", exact["rows"]![0]!["status"]!.GetValue<string>());
        Assert.Equal("mismatch", tokensOff["rows"]![0]!["status"]!.GetValue<string>());
        Assert.Equal(1, tokensOff["rows"]![0]!["difference"]!["tokens"]!.GetValue<long>());
        // A bill with a single tokens column gets no per-direction figures.
        Assert.Null(tokensOff["rows"]![0]!["difference"]!["inputTokens"]);
        Assert.Null(tokensOff["rows"]![0]!["vendor"]!["inputTokens"]);
    }

    [Fact]
    public async Task Quotes_a_byte_order_mark_CRLF_blank_lines_and_split_rows_all_read_the_same()
    {
        await SeedLedgerAsync();
        // Columns in another order and case, an unknown column holding a quoted comma and a line break, blank lines,
        // a spreadsheet's empty trailing row, and 2025-03-02 split over three lines that are summed.
        var bill = "\uFEFFAmount,Note,MODEL,Date,Tokens,Currency\r\n"
            + "0.54,\"chat, all day\",fake-chat,2025-03-01,1800,USD\r\n"
            + "\r\n"
            + "\"1.00\",\"first \"\"half\"\"\r\nof the day\",\"fake-chat\",2025-03-02,2000,usd\r\n"
            + " 0.50 ,,fake-chat, 2025-03-02 ,1000,\r\n"
            + "0.13,,fake-chat,2025-03-02,470,USD\r\n"
            + "0.2,,fake-chat,2025-03-03,500,USD\r\n"
            + ",,,,,\r\n";

        var bytes = Encoding.UTF8.GetBytes(bill);
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);

        var (status, report) = await PostAsync(bytes);

        Assert.Equal(HttpStatusCode.OK, status);
        var rows = report["rows"]!.AsArray();
        Assert.Equal(["match", "match", "match"], rows.Select(r => r!["status"]!.GetValue<string>()));
        Assert.Equal(new[] { 4, 6, 7 }, rows[1]!["vendor"]!["lines"]!.AsArray().Select(l => l!.GetValue<int>()));
        Assert.Equal(3470, rows[1]!["vendor"]!["tokens"]!.GetValue<long>());
        Assert.Equal(1.63m, rows[1]!["vendor"]!["amount"]!.GetValue<decimal>());
        Assert.Equal(0m, report["totals"]!["difference"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task A_multipart_upload_reads_the_file_field()
    {
        await SeedLedgerAsync();
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("ignored"), "comment");
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes("date,model,tokens,amount\n2025-03-01,fake-chat,1800,0.54\n2025-03-03,fake-chat,500,0.2\n"));
        // What browsers on Windows send for a .csv file.
        file.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.ms-excel");
        form.Add(file, "file", "march.csv");

        using var response = await _host.Admin.PostAsync("api/reconciliation?provider=fake", form);
        var report = (await response.Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["match", "missing_in_bill", "match"], report["rows"]!.AsArray().Select(r => r!["status"]!.GetValue<string>()));
    }

    [Fact]
    public async Task The_currency_defaults_to_the_ledgers_and_another_one_is_reported_not_converted()
    {
        await SeedLedgerAsync();
        await AppendAsync(Record("2025-03-01T09:00:00Z", "fake-chat+chunks=20", 1000, 1000, 0.01m, currency: Currency.CNY));
        const string Bill = """
            date,model,tokens,amount,currency
            2025-03-01,fake-chat+chunks=20,2000,0.01,
            2025-03-03,fake-chat,500,1.45,CNY
            """;

        var (status, report) = await PostAsync(Bill);

        Assert.Equal(HttpStatusCode.OK, status);
        var rows = report["rows"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(["2025-03-01 fake-chat missing_in_bill", "2025-03-01 fake-chat+chunks=20 match", "2025-03-02 fake-chat missing_in_bill",
            "2025-03-03 fake-chat currency_mismatch"], rows.Select(r => $"{r["date"]} {r["model"]} {r["status"]}"));
        // fake-chat+chunks=20 is recorded in CNY, so its empty currency cell means CNY.
        Assert.Equal("CNY", rows[1]["currency"]!.GetValue<string>());
        // Billed in CNY, recorded in USD: the tokens compare, the amounts do not.
        var mismatch = rows[3];
        Assert.Equal("currency_mismatch", mismatch["status"]!.GetValue<string>());
        Assert.Equal("CNY", mismatch["currency"]!.GetValue<string>());
        Assert.Equal("USD", mismatch["ledger"]!["currency"]!.GetValue<string>());
        Assert.Equal(0, mismatch["difference"]!["tokens"]!.GetValue<long>());
        Assert.Null(mismatch["difference"]!["amount"]);
        Assert.Equal("the bill is in CNY, the ledger recorded fake-chat in USD that day; amounts are not converted", mismatch["note"]!.GetValue<string>());
        var totals = report["totalsByCurrency"]!.AsArray().ToDictionary(t => t!["currency"]!.GetValue<string>(), t => t!);
        Assert.Equal((1.46m, 0.01m), (totals["CNY"]["vendorAmount"]!.GetValue<decimal>(), totals["CNY"]["ledgerAmount"]!.GetValue<decimal>()));
        Assert.Equal((0m, 2.37m), (totals["USD"]["vendorAmount"]!.GetValue<decimal>(), totals["USD"]["ledgerAmount"]!.GetValue<decimal>()));
    }

    [Fact]
    public async Task A_provider_gone_from_the_catalog_is_still_reconciled_from_the_ledger()
    {
        await AppendAsync(Record("2025-03-01T09:00:00Z", "old-model", 100, 100, 0.5m, provider: "retired"));

        var (status, report) = await PostAsync("date,model,tokens,amount\n2025-03-01,old-model,200,0.5\n", "provider=retired");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("match", report["rows"]![0]!["status"]!.GetValue<string>());
    }

    public static TheoryData<string, string, int, string, int?, string?> BadBills => new()
    {
        { "date,model,amount\n2025-03-01,fake-chat,1\n", "provider=fake", 400, "line 1, tokens: no such column, nor input_tokens and output_tokens", 1, "tokens" },
        { "date,model,input_tokens,amount\n2025-03-01,fake-chat,1,1\n", "provider=fake", 400,
            "line 1, output_tokens: no such column; input_tokens and output_tokens go together (or give a single tokens column)", 1, "output_tokens" },
        { "model,tokens,amount\nfake-chat,1,1\n", "provider=fake", 400, "line 1, date: no such column; the header names: model, tokens, amount", 1, "date" },
        { "date,model,tokens,amount,Model\n", "provider=fake", 400, "line 1, model: the header names this column twice", 1, "model" },
        { "date,model,tokens,amount\n2025-03-01,fake-chat,1,1\n2025-02-30,fake-chat,1,1\n", "provider=fake", 400,
            "line 3, date: '2025-02-30' is not a date (YYYY-MM-DD)", 3, "date" },
        { "date,model,tokens,amount\n2025-03-01,fake-chat,1,1\n\n\"2025-03-01\",\"fake-chat\",1,\n2025-03-01,fake-chat,1,1\n\n2025-03-01,fake-chat,1,x\n", "provider=fake", 400,
            "line 4, amount: empty", 4, "amount" },
        { "date,model,tokens,amount\n2025-03-01,fake-chat,1,1\n\n2025-03-01,fake-chat,1,1\n2025-03-01,fake-chat,1,1\n\n2025-03-01,fake-chat,1,x\n", "provider=fake", 400,
            "line 7, amount: 'x' is not a number", 7, "amount" },
        { "date,model,tokens,amount\n2025-03-01,fake-chat,1,\"1,5\"\n", "provider=fake", 400, "line 2, amount: '1,5' is not a number", 2, "amount" },
        { "date,model,tokens,amount\n2025-03-01,fake-chat,12.5,1\n", "provider=fake", 400, "line 2, tokens: '12.5' is not a whole number of tokens", 2, "tokens" },
        { "date,model,tokens,amount\n2025-03-01,fake-chat,-3,1\n", "provider=fake", 400, "line 2, tokens: '-3' is not a whole number of tokens", 2, "tokens" },
        { "date,model,tokens,amount,currency\n2025-03-01,fake-chat,1,1,EUR\n", "provider=fake", 400, "line 2, currency: 'EUR' is not CNY or USD", 2, "currency" },
        { "date,model,tokens,amount\n2025-03-01,,1,1\n", "provider=fake", 400, "line 2, model: empty", 2, "model" },
        { "date,model,tokens,amount\n2025-03-01,fake-chat,1,1,surplus\n", "provider=fake", 400, "line 2: 5 fields, but the header names 4 columns", 2, null },
        { "date,model,tokens,amount\n2025-03-01,\"fake-chat,1,1\n", "provider=fake", 400, "line 2: a quoted field is never closed", 2, null },
        { "date,model,tokens,amount\n", "provider=fake", 400, "line 1: the bill has a header but no rows", 1, null },
        { "\n\n", "provider=fake", 400,
            "line 1: the bill is empty; the first line names the columns: date, model, tokens (or input_tokens and output_tokens), amount", 1, null },
        { "", "provider=fake", 400, "The bill is empty: send it as CSV (text/csv, or a multipart field 'file').", null, null },
        { "date,model,tokens,amount\n2025-03-01,fake-chat,1,1\n", "provider=nobody", 404,
            "No provider 'nobody' in the catalog, nor in the ledger between 2025-03-01 and 2025-03-01.", null, null },
    };

    [Theory]
    [MemberData(nameof(BadBills))]
    public async Task A_bad_bill_is_refused_with_the_line_and_column_and_changes_nothing(string csv, string query, int status, string detail, int? line, string? column)
    {
        await SeedLedgerAsync();
        var before = await LedgerStateAsync();

        var (actual, problem) = await PostAsync(csv, query);

        Assert.Equal(status, (int)actual);
        Assert.Equal(detail, problem["detail"]!.GetValue<string>());
        Assert.Equal(line, problem["line"]?.GetValue<int>());
        Assert.Equal(column, problem["column"]?.GetValue<string>());
        if (line is not null)
        {
            Assert.Equal(detail, problem["errors"]![0]!.GetValue<string>());
        }
        Assert.Equal(before, await LedgerStateAsync());
    }

    [Fact]
    public async Task Every_bad_row_is_listed_not_only_the_first()
    {
        var (status, problem) = await PostAsync("date,model,tokens,amount\n2025-03-01,fake-chat,x,1\n2025-03-32,fake-chat,1,y\n");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["line 2, tokens: 'x' is not a whole number of tokens", "line 3, date: '2025-03-32' is not a date (YYYY-MM-DD)",
            "line 3, amount: 'y' is not a number"], problem["errors"]!.AsArray().Select(e => e!.GetValue<string>()));
    }

    [Theory]
    [InlineData("", "provider", "required: the provider whose bill this is")]
    [InlineData("provider=fake&tolerance=-0.5", "tolerance", "'-0.5' is not a number of 0 or more")]
    [InlineData("provider=fake&tolerance=abc", "tolerance", "'abc' is not a number of 0 or more")]
    public async Task Bad_query_parameters_are_400_validation_problems(string query, string field, string message)
    {
        var (status, problem) = await PostAsync("date,model,tokens,amount\n2025-03-01,fake-chat,1,1\n", query);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal([message], problem["errors"]![field]!.AsArray().Select(e => e!.GetValue<string>()));
    }

    [Theory]
    [InlineData("application/json", "Send the bill as text/csv, or as multipart/form-data with a field named 'file'.")]
    [InlineData("application/x-www-form-urlencoded", "Send the bill as text/csv, or as multipart/form-data with a field named 'file'.")]
    [InlineData("text/csv; charset=gbk", "The bill must be UTF-8, not gbk: save it as CSV UTF-8.")]
    public async Task Other_media_types_are_415(string contentType, string detail)
    {
        var (status, problem) = await PostAsync("date,model,tokens,amount\n2025-03-01,fake-chat,1,1\n", contentType: contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal(detail, problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_bill_that_is_not_UTF8_is_refused_at_its_line()
    {
        // "模型" in GBK: what a spreadsheet saves on a Chinese Windows unless asked for CSV UTF-8.
        var bytes = Encoding.ASCII.GetBytes("date,model,tokens,amount\n2025-03-01,").Concat(new byte[] { 0xC4, 0xA3, 0xD0, 0xCD }).Concat(Encoding.ASCII.GetBytes(",1,1\n")).ToArray();

        var (status, problem) = await PostAsync(bytes);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("line 2: the bill is not UTF-8 text; save it as CSV UTF-8.", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_multipart_body_without_a_file_field_is_400()
    {
        using var form = new MultipartFormDataContent { { new StringContent("date,model,tokens,amount\n2025-03-01,fake-chat,1,1\n"), "bill" } };

        using var response = await _host.Admin.PostAsync("api/reconciliation?provider=fake", form);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("The multipart body has no field named 'file'.", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_bill_over_16_MiB_is_413()
    {
        var row = "2025-03-01,fake-chat,1,0.01\n"u8.ToArray();
        var bytes = new byte[16 * 1024 * 1024 + 1];
        "date,model,tokens,amount\n"u8.CopyTo(bytes);
        for (var i = 25; i + row.Length <= bytes.Length; i += row.Length)
        {
            row.CopyTo(bytes, i);
        }

        var (status, problem) = await PostAsync(bytes);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("A bill is limited to 16777216 bytes (16 MiB).", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_the_admin_key_it_is_401()
    {
        using var anonymous = new HttpClient { BaseAddress = _host.BaseUrl };
        using var content = new StringContent("date,model,tokens,amount\n2025-03-01,fake-chat,1,1\n", Encoding.UTF8, "text/csv");

        using var response = await anonymous.PostAsync("api/reconciliation?provider=fake", content);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static readonly Dictionary<string, Price> Prices = new()
    {
        ["fake-chat"] = new(Currency.USD, 0.15m, 0.60m, null),
        ["fake-chat+chunks=3"] = new(Currency.USD, 0.15m, 0.60m, null),
        ["fake-chat+chunks=20"] = new(Currency.CNY, 2m, 8m, 0.5m),
        ["fake-chat+chunks=40+gap=25"] = new(Currency.USD, 1m, 2m, null),
        ["fake-chat+chunks=30+reset=5"] = new(Currency.USD, 1m, 2m, null),
        ["fake-embed"] = new(Currency.USD, 0.02m, 0m, null),
    };

    private static async Task SendAsync(HttpClient http, string kind, string content)
    {
        using var request = kind switch
        {
            "chat" => StreamReading.Chat("chat", stream: false, content: content),
            "chat-stream" => StreamReading.Chat("chat", stream: true, content: content),
            "chat-short" => StreamReading.Chat("chat-short", stream: true, content: content),
            "chat-cny" => StreamReading.Chat("chat-cny", stream: true, includeUsage: true, content: content),
            "abort" => StreamReading.Chat("chat-slow", stream: true, content: content),
            "reset" => StreamReading.Chat("chat-reset", stream: true, content: content),
            "fail" => StreamReading.Chat("chat-500", stream: false, content: content),
            _ => new HttpRequestMessage(HttpMethod.Post, "v1/embeddings") { Content = JsonContent.Create(new { model = "embed", input = new[] { content, "second" } }) },
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.StatusCode == (kind == "fail" ? HttpStatusCode.BadGateway : HttpStatusCode.OK), $"{kind}: {response.StatusCode}");
        if (kind is "chat-stream" or "chat-short" or "chat-cny" or "abort" or "reset")
        {
            await StreamReading.ReadEventsAsync(response, kind == "abort" ? 7 : null);
        }
        else
        {
            await response.Content.ReadAsStringAsync();
        }
    }

    private async Task<IReadOnlyList<VendorBill>> WaitForBillsAsync(int withTokens)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_host.Vendor.Ledger.Bills.Count(b => b.TotalTokens > 0) < withTokens && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        return _host.Vendor.Ledger.Bills;
    }

    /// <summary>
    /// fake-chat on 2025-03-01 (two requests, one in the day's last millisecond), 2025-03-02 (ok, client_aborted and
    /// upstream_error, all with tokens) and 2025-03-03; around them what a vendor does not bill, another provider, and
    /// the days just outside the bills' range.
    /// </summary>
    private async Task SeedLedgerAsync() => await AppendAsync(
        Record("2025-03-01T00:00:00Z", "fake-chat", 1000, 500, 0.45m),
        Record("2025-03-01T23:59:59.999Z", "fake-chat", 200, 100, 0.09m),
        Record("2025-03-01T12:00:00Z", "fake-chat", 0, 0, 0m, UsageStatus.UpstreamError),
        Record("2025-03-01T12:00:01Z", "fake-chat", 0, 0, 0m, UsageStatus.ClientAborted),
        Record("2025-03-01T12:00:02Z", "fake-chat", 0, 0, 0m, UsageStatus.Rejected),
        Record("2025-03-01T13:00:00Z", "claude-haiku-4-5", 100, 100, 0.6m, provider: "claude"),
        Record("2025-03-02T10:00:00Z", "fake-chat", 2000, 1000, 1.5m),
        Record("2025-03-02T11:00:00Z", "fake-chat", 300, 50, 0.1m, UsageStatus.ClientAborted),
        Record("2025-03-02T12:00:00Z", "fake-chat", 100, 20, 0.03m, UsageStatus.UpstreamError),
        Record("2025-03-03T08:00:00Z", "fake-chat", 400, 100, 0.2m),
        Record("2025-02-28T23:59:59.999Z", "fake-chat", 7, 7, 7m),
        Record("2025-03-05T00:00:00Z", "fake-chat", 9, 9, 9m));

    private async Task AppendAsync(params UsageRecord[] records) =>
        await _host.App.Services.GetRequiredService<IUsageStore>().AppendAsync(records, CancellationToken.None);

    private static UsageRecord Record(string at, string vendorModel, long input, long output, decimal cost, UsageStatus status = UsageStatus.Ok,
        string provider = "fake", Currency currency = Currency.USD) => new()
    {
        RequestId = Guid.NewGuid().ToString("N"), At = DateTimeOffset.Parse(at, CultureInfo.InvariantCulture), WorkspaceId = "default", KeyId = "seed",
        Endpoint = "chat.completions", Model = "chat", Provider = provider, VendorModel = vendorModel, InputTokens = input, OutputTokens = output,
        Cost = cost, Currency = currency, Status = status, Source = UsageSource.Reported, HttpStatus = 200,
    };

    /// <summary>The ledger as the usage endpoint sees it: a reconciliation must leave it exactly as it was.</summary>
    private async Task<string> LedgerStateAsync()
    {
        var usage = await _host.UsageAsync();
        return usage["totals"]!.ToJsonString() + usage["count"]!.ToJsonString();
    }

    private Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(string csv, string query = "provider=fake", string contentType = "text/csv") =>
        PostAsync(Encoding.UTF8.GetBytes(csv), query, contentType);

    private async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(byte[] csv, string query = "provider=fake", string contentType = "text/csv")
    {
        using var content = new ByteArrayContent(csv);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await _host.Admin.PostAsync($"api/reconciliation?{query}", content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }
}
