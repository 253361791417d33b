using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Mulan.Console;
using Mulan.Tests.Support;

namespace Mulan.Tests.Console;

public sealed class ConsoleAssetsTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        _http = new HttpClient { BaseAddress = _host.BaseUrl };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/keys")]
    [InlineData("/knowledge/kb-1/documents")]
    [InlineData("/invite/some-token")]
    public async Task Shell_IsServedForConsoleRoutes_WithTheSecurityHeaders(string path)
    {
        using var response = await _http.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<script type=\"module\" src=\"/assets/js/app.js\">", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        AssertSecurityHeaders(response);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Asset_HasAStrongETag_AndAnswers304WhenItMatches()
    {
        using var first = await _http.GetAsync("/assets/js/dom.js");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("text/javascript", first.Content.Headers.ContentType?.MediaType);
        AssertSecurityHeaders(first);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);

        using var again = new HttpRequestMessage(HttpMethod.Get, "/assets/js/dom.js");
        again.Headers.IfNoneMatch.Add(etag);
        using var notModified = await _http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, notModified.Headers.ETag);

        using var stale = new HttpRequestMessage(HttpMethod.Get, "/assets/js/dom.js");
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\""));
        using var changed = await _http.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
    }

    [Theory]
    [InlineData("br", "br")]
    [InlineData("gzip", "gzip")]
    [InlineData("gzip, br", "br")]
    [InlineData("br;q=0, gzip", "gzip")]
    public async Task Asset_IsSentPrecompressed_WhenTheClientAcceptsIt(string accept, string expected)
    {
        using var plain = await _http.GetAsync("/assets/js/dom.js");
        var identity = await plain.Content.ReadAsByteArrayAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/assets/js/dom.js");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", accept);

        using var response = await _http.SendAsync(request);

        Assert.Equal(expected, Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        Assert.NotEqual(plain.Headers.ETag, response.Headers.ETag);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(body.Length < identity.Length);
        using var z = expected == "br"
            ? (Stream)new System.IO.Compression.BrotliStream(new MemoryStream(body), System.IO.Compression.CompressionMode.Decompress)
            : new System.IO.Compression.GZipStream(new MemoryStream(body), System.IO.Compression.CompressionMode.Decompress);
        using var inflated = new MemoryStream();
        await z.CopyToAsync(inflated);
        Assert.Equal(identity, inflated.ToArray());
    }

    [Fact]
    public async Task UnknownAsset_Is404_AndTheApiKeepsItsOwn404()
    {
        using var missing = await _http.GetAsync("/assets/js/../../Mulan.csproj");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var api = await _http.GetAsync("/api/no-such-route");
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);
        using var other = await _http.GetAsync("/not-a-console-route");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public void EmbeddedScripts_NeverParseStringsAsMarkupOrCode()
    {
        var assets = new ConsoleAssets();
        var scripts = assets.Paths.Where(p => p.EndsWith(".js", StringComparison.Ordinal)).ToList();
        Assert.Contains("js/app.js", scripts);
        Assert.Contains("index.html", assets.Paths);
        string[] forbidden = ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('on", "setAttribute(\"on"];
        foreach (var path in scripts)
        {
            var text = Encoding.UTF8.GetString(assets.Content(path)!.Value.Span);
            foreach (var word in forbidden)
            {
                Assert.False(text.Contains(word, StringComparison.Ordinal), $"{path} contains {word}");
            }
        }
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response)
    {
        Assert.Equal(ConsoleSecurity.ContentSecurityPolicy, string.Join(";", response.Headers.GetValues("Content-Security-Policy")));
        Assert.DoesNotContain("unsafe-inline", ConsoleSecurity.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", ConsoleSecurity.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
    }
}
