using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Mulan.Hosting;
using Mulan.Tests.Support;
using Npgsql;

namespace Mulan.Tests.Storage;

/// <summary>
/// The server on a real PostgreSQL (started by the test run): gateway calls and their ledger, budgets under concurrency,
/// knowledge ingestion and search, a restart over the same database, and the start-up errors and summary. The rest of
/// the suite runs on PostgreSQL too with MULAN_TEST_POSTGRES=1.
/// </summary>
public sealed class PostgresBackendTests
{
    private const string PriceyCatalog = """
        {
          "providers": [ { "name": "fake", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" } ],
          "models": [
            { "name": "chat", "deployments": [ { "provider": "fake", "model": "fake-chat", "price": { "currency": "USD", "input": 0.15, "output": 0.60 } } ] },
            { "name": "pricey", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=12", "price": { "currency": "USD", "input": 100, "output": 200 } } ] }
          ]
        }
        """;

    private static object Chat(string model, int i, bool stream) => new
    {
        model, stream, max_tokens = 12, messages = new[] { new { role = "user", content = $"request {i}" } },
    };

    private static async Task<long> CountAsync(MulanHost host, string sql)
    {
        await using var c = new NpgsqlConnection(host.Postgres);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand(sql, c);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [PostgresFact]
    public async Task Chat_completions_are_served_and_metered_in_postgres_and_the_sqlite_file_is_never_created()
    {
        await using var host = await MulanHost.StartAsync(PriceyCatalog, postgres: true);
        Assert.NotNull(host.Postgres);
        using var client = host.Client(await host.CreateKeyAsync());
        using (var response = await client.PostAsJsonAsync("v1/chat/completions", Chat("chat", 1, stream: false)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var response = await client.PostAsJsonAsync("v1/chat/completions", Chat("chat", 2, stream: true)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await response.Content.ReadAsStringAsync();
        }
        var records = await host.WaitForRecordsAsync(2);
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal("ok", r["status"]!.GetValue<string>()));
        Assert.All(records, r => Assert.True(r["cost"]!["amount"]!.GetValue<decimal>() > 0));
        Assert.Equal(2, await CountAsync(host, "SELECT count(*) FROM usage_records WHERE status = 'ok'"));
        Assert.Equal(2, await CountAsync(host, "SELECT COALESCE(SUM(requests), 0)::bigint FROM usage_daily"));
        Assert.False(File.Exists(Path.Combine(host.DataDirectory, "mulan.db")), "the SQLite database was created beside PostgreSQL");

        // The dashboard's hourly rollup folds the same records in, exactly once however often it is read.
        var from = DateTimeOffset.UtcNow.AddHours(-2).ToString("O");
        var to = DateTimeOffset.UtcNow.AddHours(2).ToString("O");
        for (var i = 0; i < 2; i++)
        {
            var summary = (await host.Admin.GetFromJsonAsync<JsonObject>($"api/usage/summary?from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}&by=model"))!;
            Assert.Equal(2, summary["totals"]!["requests"]!.GetValue<long>());
        }
        Assert.Equal(2, await CountAsync(host, "SELECT COALESCE(SUM(requests), 0)::bigint FROM usage_hourly"));
        var health = await host.Admin.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [PostgresFact]
    public async Task Concurrent_requests_never_overshoot_a_key_budget()
    {
        await using var host = await MulanHost.StartAsync(PriceyCatalog, postgres: true);
        // One request costs about 0.0036 USD; the budget holds about twenty.
        const decimal budget = 0.072m;
        using var client = host.Client(await host.CreateKeyAsync(new { name = "budgeted", budget = new { amount = budget, currency = "USD", period = "day" } }));
        var statuses = new HttpStatusCode[200];
        await Parallel.ForEachAsync(Enumerable.Range(0, statuses.Length), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            using var response = await client.PostAsJsonAsync("v1/chat/completions", Chat("pricey", i, stream: i % 2 == 0), ct);
            await response.Content.ReadAsStringAsync(ct);
            statuses[i] = response.StatusCode;
        });
        var served = statuses.Count(s => s == HttpStatusCode.OK);
        Assert.Equal(statuses.Length, served + statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        var records = await host.WaitForRecordsAsync(statuses.Length);
        var ok = records.Where(r => r["status"]!.GetValue<string>() == "ok").ToList();
        Assert.Equal(served, ok.Count);
        var spent = ok.Sum(r => r["cost"]!["amount"]!.GetValue<decimal>());
        Assert.True(spent <= budget, $"spent {spent} of {budget}");
        Assert.InRange(served, 15, 25);
        Assert.Equal(served, host.Vendor.Ledger.Bills.Count);
    }

    [PostgresFact]
    public async Task A_document_is_ingested_searched_and_kept_across_a_restart_over_the_same_database()
    {
        var host = await MulanHost.StartAsync(postgres: true);
        var vendor = host.Vendor;
        var data = host.DataDirectory;
        string kb, key;
        try
        {
            kb = (await (await host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "handbook" })).Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
            var added = await host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents",
                new { title = "handbook.md", text = "# Handbook\n\n## Leave\nEmployees have fifteen days of paid leave a year.\n\n## Expenses\nReceipts are due by the 25th of the month." });
            Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
            var doc = (await added.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>();
            var ready = await Knowledge.KnowledgeApiTests.WaitForDocumentAsync(host.Admin, kb, doc);
            Assert.Equal("ready", ready["status"]!.GetValue<string>());
            Assert.True(await CountAsync(host, "SELECT count(*) FROM chunks") >= 2);
            var search = (await (await host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = "when are receipts due", topK = 1 }))
                .Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.Contains("Receipts", search["results"]![0]!["text"]!.GetValue<string>());
            key = await host.CreateKeyAsync();
        }
        finally
        {
            await host.StopKeepingDataAsync();
        }

        // The same data folder maps to the same database: the migrations find it current, the key and the index are back.
        await using var again = await MulanHost.StartAsync(vendor: vendor, dataDirectory: data, postgres: true);
        using var client = again.Client(key);
        using (var response = await client.PostAsJsonAsync("v1/chat/completions", Chat("chat", 1, stream: false)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var found = (await (await again.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = "paid leave", topK = 1 }))
            .Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains("fifteen days", found["results"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(Mulan.Storage.Postgres.PostgresMigrations.Latest, await CountAsync(again, "SELECT MAX(version) FROM mulan_schema"));
        Assert.Equal(Mulan.Storage.Postgres.PostgresMigrations.Latest, await CountAsync(again, "SELECT count(*) FROM mulan_schema")); // each step once, over two starts
    }

    [PostgresFact]
    public async Task Keys_are_stored_as_hashes_and_provider_secrets_encrypted_in_every_row()
    {
        await using var host = await MulanHost.StartAsync(postgres: true);
        var key = await host.CreateKeyAsync();
        const string secret = "sk-deepseek-at-rest-0123456789abcdef";
        Assert.Equal(HttpStatusCode.Created, (await host.Admin.PostAsJsonAsync("api/providers", new { name = "deep", kind = "deepseek", apiKey = secret })).StatusCode);
        await using var c = new NpgsqlConnection(host.Postgres);
        await c.OpenAsync();
        // Every row of every table as text (bytea as hex, so the encrypted secret is there, only not in clear).
        await using var tables = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", c);
        var names = new List<string>();
        await using (var reader = await tables.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                names.Add(reader.GetString(0));
            }
        }
        Assert.Contains("virtual_keys", names);
        Assert.Contains("providers", names);
        foreach (var table in names)
        {
            await using var scan = new NpgsqlCommand(
                $"SELECT count(*) FROM {table} t WHERE strpos(row_to_json(t)::text, $1) > 0 OR strpos(row_to_json(t)::text, $2) > 0 OR strpos(row_to_json(t)::text, $3) > 0", c)
            {
                Parameters = { new() { Value = key }, new() { Value = secret }, new() { Value = host.Vendor.ApiKey } },
            };
            Assert.Equal(0L, (long)(await scan.ExecuteScalarAsync())!);
        }
        Assert.Equal(1, await CountAsync(host, "SELECT count(*) FROM providers WHERE name = 'deep' AND secret IS NOT NULL"));
    }

    [PostgresFact]
    public async Task With_the_database_down_requests_fail_closed_and_after_it_restarts_every_answer_has_its_record()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        await using var host = await MulanHost.StartAsync(PriceyCatalog, postgres: true, postgresServer: server);
        using var client = host.Client(await host.CreateKeyAsync());
        var answered = 0;
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.PostAsJsonAsync("v1/chat/completions", Chat("chat", i, stream: false));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            answered++;
        }

        server.Kill();
        for (var i = 0; i < 3; i++)
        {
            using var refused = await client.PostAsJsonAsync("v1/chat/completions", Chat("chat", 100 + i, stream: false));
            // Never served unmetered: with no ledger there is no answer.
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await host.Admin.GetAsync("healthz")).StatusCode);

        await server.RestartAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            // The pool's broken connections are dropped as they are found; the server recovers without a restart of its own.
            using var response = await client.PostAsJsonAsync("v1/chat/completions", Chat("chat", 200, stream: false));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                answered++;
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"still {response.StatusCode} after the database came back");
            await Task.Delay(200);
        }
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.PostAsJsonAsync("v1/chat/completions", Chat("chat", 300 + i, stream: i % 2 == 0));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await response.Content.ReadAsStringAsync();
            answered++;
        }
        Assert.Equal(HttpStatusCode.OK, (await host.Admin.GetAsync("healthz")).StatusCode);
        // Every answer given has exactly one record, none of a refused request.
        var records = await host.WaitForRecordsAsync(answered);
        Assert.Equal(answered, records.Count(r => r["status"]!.GetValue<string>() == "ok"));
        Assert.Equal(records.Count, records.Select(r => r["requestId"]!.GetValue<string>()).Distinct().Count());
    }

    [PostgresFact]
    public async Task An_unreachable_database_stops_start_up_naming_the_host_and_never_the_password()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var data = Directory.CreateTempSubdirectory("mulan-test-").FullName;
        var arguments = new ServeArguments("http://127.0.0.1:0", data, null, $"Host=127.0.0.1;Port={port};Username=mulan;Password=hunter2-secret;Database=mulan;Timeout=3");
        await using var app = MulanServer.Build(arguments, b => b.Logging.ClearProviders());
        var error = await Assert.ThrowsAsync<StartupException>(() => MulanServer.InitializeAsync(app, arguments, new Mulan.Gateway.Catalog.CatalogFile(), _ => null));
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
        Assert.False(File.Exists(Path.Combine(data, "mulan.db")));
    }

    [PostgresFact]
    public async Task A_malformed_connection_string_is_refused_at_start_without_echoing_it()
    {
        var data = Directory.CreateTempSubdirectory("mulan-test-").FullName;
        var arguments = new ServeArguments("http://127.0.0.1:0", data, null, "Hots=db;Password=hunter2-secret");
        await using var app = MulanServer.Build(arguments, b => b.Logging.ClearProviders());
        var error = await Assert.ThrowsAsync<StartupException>(() => MulanServer.InitializeAsync(app, arguments, new Mulan.Gateway.Catalog.CatalogFile(), _ => null));
        Assert.Contains("Storage:Postgres", error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [PostgresFact]
    public async Task The_start_up_summary_names_postgres_with_the_password_masked()
    {
        await using var host = await MulanHost.StartAsync(postgres: true);
        var summary = await StartupSummary.DescribeAsync(host.App.Services, CancellationToken.None);
        Assert.Contains("PostgreSQL (", summary);
        Assert.Contains("Password=***", summary);
        Assert.DoesNotContain("test-password", summary);
        Assert.DoesNotContain("test-password", host.Logs.Text);
    }
}

/// <summary>Several nodes over one PostgreSQL database and one data folder: each node's in-memory indexes follow the others' changes.</summary>
public sealed class PostgresNodesTests
{
    private static async Task<JsonArray> SearchAsync(MulanHost node, string kb, string query) =>
        (await (await node.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query, topK = 3 })).Content.ReadFromJsonAsync<JsonObject>())!["results"]!.AsArray();

    private static async Task<JsonArray> WaitForSearchAsync(MulanHost node, string kb, string query, Func<JsonArray, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var results = await SearchAsync(node, kb, query);
            if (until(results) || DateTime.UtcNow > deadline)
            {
                return results;
            }
            await Task.Delay(100);
        }
    }

    [PostgresFact]
    public async Task A_document_ingested_on_one_node_is_found_on_another_its_deletion_too_and_a_node_started_later_catches_up()
    {
        await using var a = await MulanHost.StartAsync(postgres: true);
        var b = await MulanHost.StartAsync(vendor: a.Vendor, dataDirectory: a.DataDirectory, postgres: true);
        MulanHost? c = null;
        try
        {
            Assert.Equal(a.Postgres, b.Postgres);
            var kb = (await (await a.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "handbook" })).Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
            // Nothing of it on the other node yet: the search there finds nothing.
            Assert.Empty(await SearchAsync(b, kb, "receipts"));
            var added = await a.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents",
                new { title = "expenses.md", text = "# Expenses\n\nReceipts are due by the 25th of the month. Hotels cost at most 600 a night." });
            var doc = (await added.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>();
            Assert.Equal("ready", (await Knowledge.KnowledgeApiTests.WaitForDocumentAsync(a.Admin, kb, doc))["status"]!.GetValue<string>());

            var onB = await WaitForSearchAsync(b, kb, "when are receipts due", r => r.Count > 0);
            Assert.Contains("Receipts are due", Assert.Single(onB)!["text"]!.GetValue<string>());
            var onA = await SearchAsync(a, kb, "when are receipts due");
            Assert.Contains("Receipts are due", Assert.Single(onA)!["text"]!.GetValue<string>());

            // A node started now loads what is stored and follows the log from there.
            c = await MulanHost.StartAsync(vendor: a.Vendor, dataDirectory: a.DataDirectory, postgres: true);
            Assert.Single(await SearchAsync(c, kb, "when are receipts due"));

            // Deleted on the other node: gone from every index within a few seconds.
            Assert.Equal(HttpStatusCode.OK, (await b.Admin.DeleteAsync($"api/knowledge-bases/{kb}/documents/{doc}")).StatusCode);
            Assert.Empty(await WaitForSearchAsync(a, kb, "when are receipts due", r => r.Count == 0));
            Assert.Empty(await WaitForSearchAsync(c, kb, "when are receipts due", r => r.Count == 0));
            Assert.Empty(await SearchAsync(b, kb, "when are receipts due"));
        }
        finally
        {
            if (c is not null)
            {
                await c.StopKeepingDataAsync();
            }
            await b.StopKeepingDataAsync();
        }
    }
}
