using System.ClientModel;
using Mulan.Tests.Support;
using OpenAI;

namespace Mulan.Tests.Gateway.Adapters;

/// <summary>
/// What every adapter test class starts: a fake vendor and a Mulan with the class's catalog, allowed one attempt so
/// that a vendor's failure reaches the client as is, plus an official OpenAI SDK client and a raw HTTP client.
/// </summary>
public abstract class AdapterTestHost : IAsyncLifetime
{
    protected MulanHost Host { get; private set; } = null!;
    protected OpenAIClient Sdk { get; private set; } = null!;
    protected HttpClient Http { get; private set; } = null!;

    /// <summary>The catalog, with the placeholders of <see cref="MulanHost.StartAsync"/>.</summary>
    protected abstract string Catalog { get; }

    public async Task InitializeAsync()
    {
        Host = await MulanHost.StartAsync(Catalog, b => b.Configuration["Gateway:MaxAttempts"] = "1");
        var key = await Host.CreateKeyAsync();
        Sdk = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = Host.V1 });
        Http = Host.Client(key);
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
    }
}
