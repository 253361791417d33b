using System.Text.Json;

namespace Mulan.Bench.Arms;

/// <summary>The <c>--config</c> file: one provider (the fake vendor) and one model route per workload.</summary>
internal static class MulanConfig
{
    /// <param name="kind"><c>openai</c> (passed through) or <c>anthropic</c> (the same fake, spoken to in Anthropic Messages).</param>
    public static string Render(int vendorPort, string kind = "openai")
    {
        var price = new { currency = "USD", input = 0.15, output = 0.6 };
        var config = new
        {
            providers = new[] { new { name = "fake", kind, baseUrl = $"http://127.0.0.1:{vendorPort}/v1", apiKey = FakeVendorArm.ApiKey } },
            models = Enum.GetValues<Workload>()
                .Select(w => new { name = w.MulanRoute(), deployments = new[] { new { provider = "fake", model = w.VendorModel(), price } } })
                .ToArray(),
        };
        return JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true });
    }
}
