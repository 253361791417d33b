using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Xunit.Sdk;

namespace Mulan.Tests.Support;

/// <summary>
/// A fact that needs Debian's postgresql. Without it the test shows as skipped, with the reason; with
/// MULAN_REQUIRE_POSTGRES=1 (as in CI) it runs anyway and fails with a clear message instead.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresServer.BinDirectory is null && Environment.GetEnvironmentVariable("MULAN_REQUIRE_POSTGRES") != "1")
        {
            Skip = "PostgreSQL is not installed (apt-get install -y postgresql); set MULAN_REQUIRE_POSTGRES=1 to fail instead of skipping";
        }
    }
}

/// <summary>
/// A fact about the SQLite file itself (it opens <c>mulan.db</c>, or breaks it on purpose). Skipped, with the reason, when
/// MULAN_TEST_POSTGRES=1 puts every host on PostgreSQL; <see cref="Storage.PostgresBackendTests"/> covers that backend.
/// </summary>
public sealed class SqliteFactAttribute : FactAttribute
{
    public SqliteFactAttribute()
    {
        if (PostgresServer.ForAllHosts)
        {
            Skip = "reads or breaks the SQLite file itself; this run keeps every host's data in PostgreSQL (MULAN_TEST_POSTGRES=1)";
        }
    }
}

/// <summary>
/// One real PostgreSQL server for the test run: initdb into a temp folder, started on a free loopback port, stopped when
/// the test process exits. Each Mulan host gets a database of its own, named after its data folder, so that a host
/// restarted over the same folder finds its data again. PostgreSQL refuses to run as root: as root the server runs as
/// <c>nobody</c>. With MULAN_TEST_POSTGRES=1 every <see cref="MulanHost"/> runs on it, so the whole suite runs on this backend.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static PostgresServer? _shared;

    private readonly string _root;
    private readonly string _data;
    private Process? _process;

    private PostgresServer(string root, string data, int port)
    {
        _root = root;
        _data = data;
        Port = port;
    }

    public static string? BinDirectory { get; } = Directory.Exists("/usr/lib/postgresql")
        ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "postgres")))
            .OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault()
        : null;

    /// <summary>True when every Mulan host of this run keeps its data in PostgreSQL.</summary>
    public static bool ForAllHosts { get; } = Environment.GetEnvironmentVariable("MULAN_TEST_POSTGRES") == "1";

    private static bool AsRoot => Environment.UserName == "root";

    public int Port { get; }

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "mulan", Password = "test-password", Database = database }.ConnectionString;

    /// <summary>The run's server, shared by every test; stopped when the test process exits.</summary>
    public static async Task<PostgresServer> SharedAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_shared is null)
            {
                var server = await StartAsync();
                AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop(deleteFiles: true);
                _shared = server;
            }
            return _shared;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>A server of the test's own, for tests that stop and restart it; disposing it stops it and deletes its files.</summary>
    public static Task<PostgresServer> StartDedicatedAsync() => StartAsync();

    /// <summary>The database of the Mulan host whose data folder is <paramref name="dataDirectory"/>, created if missing.</summary>
    public async Task<string> DatabaseForAsync(string dataDirectory)
    {
        var name = "m_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDirectory))))[..20];
        await using var c = new NpgsqlConnection(ConnectionString("postgres"));
        await c.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", c) { Parameters = { new() { Value = name } } };
        if (await exists.ExecuteScalarAsync() is null)
        {
            // The name is our own hex digest.
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", c);
            await create.ExecuteNonQueryAsync();
        }
        return ConnectionString(name);
    }

    public async Task DropAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearAllPools();
        await using var c = new NpgsqlConnection(ConnectionString("postgres"));
        await c.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", c);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>Kills the server at once (as a crash would), keeping its files.</summary>
    public void Kill() => Stop(deleteFiles: false);

    /// <summary>Starts the server again over the same files and port (crash recovery runs first).</summary>
    public Task RestartAsync() => LaunchAsync();

    private static async Task<PostgresServer> StartAsync()
    {
        var bin = BinDirectory ?? throw new XunitException("MULAN_REQUIRE_POSTGRES=1 but PostgreSQL was not found under /usr/lib/postgresql: apt-get install -y postgresql");
        var root = Directory.CreateTempSubdirectory("mulan-pg-").FullName;
        var passwordFile = Path.Combine(root, "pw");
        await File.WriteAllTextAsync(passwordFile, "test-password");
        if (AsRoot)
        {
            await RunAsync("chown", ["-R", "nobody", root]);
        }
        var data = Path.Combine(root, "data");
        // The C locale sorts text by bytes, as SQLite does; password authentication over TCP, as a deployment would use.
        string[] initdb = [Path.Combine(bin, "initdb"), "-D", data, "-U", "mulan", "--pwfile", passwordFile, "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "-N"];
        await RunAsync(AsRoot ? "runuser" : initdb[0], AsRoot ? ["-u", "nobody", "--", .. initdb] : initdb[1..]);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var server = new PostgresServer(root, data, port);
        await server.LaunchAsync();
        return server;
    }

    private async Task LaunchAsync()
    {
        string[] serverArgs =
        [
            Path.Combine(BinDirectory!, "postgres"), "-D", _data, "-k", _root, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=1000", "-c", "shared_buffers=32MB",
            // Test data is thrown away: no fsync; the tests measure Mulan's behaviour, not the test server's durability.
            "-c", "fsync=off", "-c", "full_page_writes=off",
        ];
        // PostgreSQL refuses to run as root.
        var process = Process.Start(new ProcessStartInfo(AsRoot ? "runuser" : serverArgs[0], AsRoot ? ["-u", "nobody", "--", .. serverArgs] : serverArgs[1..])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        for (var i = 0; i < 200; i++)
        {
            try
            {
                await using var c = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false");
                await c.OpenAsync();
                return;
            }
            catch (Exception e) when (e is NpgsqlException or SocketException)
            {
                if (process.HasExited)
                {
                    break;
                }
                await Task.Delay(50);
            }
        }
        Stop(deleteFiles: true);
        throw new XunitException($"PostgreSQL did not start on port {Port}");
    }

    private void Stop(bool deleteFiles)
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        if (!deleteFiles)
        {
            return;
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the OS's temp cleanup.
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop(deleteFiles: true);
        return ValueTask.CompletedTask;
    }

    private static async Task RunAsync(string file, string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        await stdout;
        if (p.ExitCode != 0)
        {
            throw new XunitException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr}");
        }
    }
}
