using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Outbound;
using Mulan.Tests.Assistant.Tools;

namespace Mulan.Tests.Outbound;

/// <summary><see cref="GuardedHttpClient.SendAsync"/>: any method and body under the public-internet policy, exact hosts an
/// administrator allowed, redirects only for GET (the request's headers only on the same origin), metadata never.</summary>
public sealed class GuardedSendTests : IAsyncLifetime
{
    private readonly GuardedHttpClient _client = new(new OutboundOptions { FirstByteTimeoutSeconds = 2, BodyTimeoutSeconds = 2 });
    private OrdersService _orders = null!;

    public async Task InitializeAsync() => _orders = await OrdersService.StartAsync();

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _orders.DisposeAsync();
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(_orders.BaseUrl, path));
        request.Headers.TryAddWithoutValidation("X-Api-Key", OrdersService.Secret);
        return request;
    }

    [Fact]
    public async Task A_post_with_a_body_reaches_an_allowed_private_host_and_answers_its_status()
    {
        using var post = Request(HttpMethod.Post, "tickets");
        post.Content = new StringContent("""{"subject":"refund"}""", Encoding.UTF8, "application/json");
        var (status, mediaType, body) = await _client.SendAsync(post, 10_000, [_orders.Host], default);
        Assert.Equal(201, status);
        Assert.Equal("application/json", mediaType);
        Assert.Equal("refund", JsonNode.Parse(body)!["subject"]!.GetValue<string>());

        using var unauthorized = new HttpRequestMessage(HttpMethod.Get, new Uri(_orders.BaseUrl, "orders/1"));
        Assert.Equal(401, (await _client.SendAsync(unauthorized, 10_000, [_orders.Host], default)).Status);
    }

    [Fact]
    public async Task Without_the_allowance_a_private_host_is_refused_before_connecting()
    {
        using var get = Request(HttpMethod.Get, "orders/1");
        await Assert.ThrowsAsync<BlockedUrlException>(() => _client.SendAsync(get, 10_000, null, default));
        using var other = Request(HttpMethod.Get, "orders/1");
        await Assert.ThrowsAsync<BlockedUrlException>(() => _client.SendAsync(other, 10_000, ["erp.internal"], default));
        Assert.Equal(0, _orders.Requests);
    }

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("[fd00:ec2::254]")]
    [InlineData("[::ffff:169.254.169.254]")]
    [InlineData("100.100.100.200")]
    public async Task Metadata_addresses_stay_refused_even_when_allowed(string host)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, $"http://{host}/latest/meta-data/");
        await Assert.ThrowsAsync<BlockedUrlException>(() => _client.SendAsync(get, 10_000, [host.Trim('[', ']'), host], default));
    }

    [Fact]
    public async Task Get_follows_redirects_with_its_headers_only_on_the_same_origin_and_post_never_follows()
    {
        var sameOrigin = new Uri(_orders.BaseUrl, "echo-headers").ToString();
        using var get = Request(HttpMethod.Get, "moved?to=" + Uri.EscapeDataString(sameOrigin));
        var followed = JsonNode.Parse((await _client.SendAsync(get, 10_000, [_orders.Host], default)).Body)!;
        Assert.Equal(OrdersService.Secret, followed["X-Api-Key"]!.GetValue<string>());

        var otherOrigin = new UriBuilder(sameOrigin) { Host = "localhost" }.Uri.ToString();
        using var away = Request(HttpMethod.Get, "moved?to=" + Uri.EscapeDataString(otherOrigin));
        var (status, _, body) = await _client.SendAsync(away, 10_000, [_orders.Host, "localhost"], default);
        Assert.Equal(200, status);
        Assert.Null(JsonNode.Parse(body)!["X-Api-Key"]);

        using var post = Request(HttpMethod.Post, "moved?to=" + Uri.EscapeDataString(sameOrigin));
        post.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        Assert.Equal((int)HttpStatusCode.TemporaryRedirect, (await _client.SendAsync(post, 10_000, [_orders.Host], default)).Status);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused()
    {
        using var get = Request(HttpMethod.Get, "huge");
        await Assert.ThrowsAsync<BlockedUrlException>(() => _client.SendAsync(get, 1024 * 1024, [_orders.Host], default));
    }
}
