using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging.Console;

namespace Mulan.FakeVendor;

/// <summary>
/// A fake OpenAI-compatible vendor on a real Kestrel bound to 127.0.0.1, so the gateway under
/// test talks real HTTP (sockets, chunked SSE, resets) to it.
/// </summary>
public sealed class FakeVendorServer : IAsyncDisposable
{
    // Tokenizer load and vocabulary proof happen once per process, before the first server listens.
    private static readonly Lazy<Task> SelfCheck = new(() => Task.Run(() =>
    {
        ReplyVocabulary.Verify();
        ToolCallScript.Verify();
    }));

    private readonly WebApplication _app;
    private readonly VendorState _state;

    private FakeVendorServer(WebApplication app, VendorState state, Uri origin)
    {
        _app = app;
        _state = state;
        Origin = origin;
        BaseUrl = new Uri(origin, "/v1");
    }

    /// <summary><c>http://127.0.0.1:PORT</c>, where the control routes (<c>/_ledger</c>) live.</summary>
    public Uri Origin { get; }

    /// <summary>The OpenAI base URL, e.g. <c>http://127.0.0.1:45678/v1</c> (no trailing slash).</summary>
    public Uri BaseUrl { get; }

    public int Port => Origin.Port;

    public string ApiKey => _state.ApiKey;

    public FakeVendorLedger Ledger => _state.Ledger;

    /// <summary>Every request received (except control routes), in arrival order; a snapshot.</summary>
    public IReadOnlyList<ReceivedRequest> Requests => _state.Requests.Snapshot();

    /// <summary>Queues a one-shot fault for the next chat/embeddings request (see <see cref="FakeFault"/>).</summary>
    public void Enqueue(FakeFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        _state.Enqueue(fault);
    }

    public static async Task<FakeVendorServer> StartAsync(FakeVendorOptions? options = null, CancellationToken ct = default)
    {
        options ??= new FakeVendorOptions();
        await SelfCheck.Value.WaitAsync(ct);

        var state = new VendorState(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });

        // No appsettings.json or ASPNETCORE_* from the host process: a test process's gateway
        // config (e.g. Kestrel endpoints) must not leak into the fake.
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        if (options.EnableLogging)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddSimpleConsole();
            builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        // The library must not grab Ctrl+C / SIGTERM in a test process; the CLI handles signals itself.
        // A short shutdown timeout: disposing mid-stream (a test ending early) aborts the stream fast.
        builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(500));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, options.Port, listen => listen.Protocols = HttpProtocols.Http1);
        });

        var app = builder.Build();
        app.UseWebSockets();
        app.Run(new VendorDispatcher(state).InvokeAsync);
        try
        {
            await app.StartAsync(ct);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FakeVendorServer(app, state, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }

    /// <summary>Starts and stops when told to; unlike ConsoleLifetime it registers no signal handlers.</summary>
    private sealed class NoSignalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
