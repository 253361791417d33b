using Mulan.FakeVendor;
using Mulan.Gateway.Catalog;
using Mulan.Speech.Adapters;

namespace Mulan.Tests.Speech.IFlytek;

/// <summary>A fake iFlytek on loopback and the records an adapter call needs; one fake per test class instance.</summary>
public abstract class IFlytekFixture : IAsyncLifetime
{
    private readonly HttpClient _client = new();

    protected FakeVendorServer Fake { get; private set; } = null!;

    public async Task InitializeAsync() => Fake = await FakeVendorServer.StartAsync();

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await Fake.DisposeAsync();
    }

    /// <summary>The fake's credentials: APPID "fakeapp", APIKey "fakekey", APISecret = the fake's key.</summary>
    protected string Key => $"fakeapp:fakekey:{Fake.ApiKey}";

    protected MediaCall Call(string model, string? apiKey = null, long maxResponseBytes = 16 << 20)
    {
        var provider = new Provider("iflytek", ProviderKind.All["iflytek"], Fake.Origin, apiKey ?? Key, new Dictionary<string, string>(), CatalogSource.Config);
        var deployment = new Deployment(provider, model, new Price(Currency.CNY, 0, 0, null) { PerSecond = 0.001m });
        return new MediaCall(deployment, "req-1", _client, TimeSpan.FromSeconds(5), maxResponseBytes);
    }

    /// <summary>The JSON frames the fake received over its sockets at <paramref name="path"/>, in order.</summary>
    protected List<System.Text.Json.Nodes.JsonObject> Frames(string path) =>
        [.. Fake.Requests.Where(r => r.Method == "WS" && r.Path == path).Select(r => System.Text.Json.Nodes.JsonNode.Parse(r.Body)!.AsObject())];

    /// <summary>A 16 kHz 16-bit mono sine, with optional silent spans (start, length in seconds).</summary>
    protected static byte[] Tone(double seconds, double hz = 440, params (double Start, double Length)[] silences)
    {
        var samples = (int)Math.Round(seconds * 16_000);
        var pcm = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            var t = i / 16_000.0;
            var silent = silences.Any(s => t >= s.Start && t < s.Start + s.Length);
            var value = silent ? (short)0 : (short)(10_000 * Math.Sin(2 * Math.PI * hz * t));
            pcm[2 * i] = (byte)value;
            pcm[2 * i + 1] = (byte)(value >> 8);
        }
        return pcm;
    }

    protected sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => TimeProvider.System.GetUtcNow() + shift;
    }
}
