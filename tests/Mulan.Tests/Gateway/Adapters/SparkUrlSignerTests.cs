using System.Security.Cryptography;
using System.Text;
using Mulan.Gateway.Adapters.Spark;

namespace Mulan.Tests.Gateway.Adapters;

/// <summary>
/// The signer against iFlytek's published worked example ("WebSocket协议通用鉴权URL生成说明",
/// xfyun.cn/doc/spark/general_url_authentication.html): host spark-api.xf-yun.com, date
/// Fri, 05 May 2023 10:43:39 GMT, request line GET /v1.1/chat, APISecret MjlmNzkzNmZkMDQ2OTc0ZDdmNGE2ZTZi.
/// The page prints each intermediate value; the signature, authorization and final URL below are the ones it
/// prints (its sample code names one APIKey but its printed authorization_origin — and everything derived from
/// it — uses api_key addd2272b6d8b7c8abdd79531420ca3b, so that is the key the printed values reproduce).
/// </summary>
public sealed class SparkUrlSignerTests
{
    private const string Host = "spark-api.xf-yun.com";
    private const string Path = "/v1.1/chat";
    private const string Date = "Fri, 05 May 2023 10:43:39 GMT";
    private const string ApiSecret = "MjlmNzkzNmZkMDQ2OTc0ZDdmNGE2ZTZi";
    private const string ApiKey = "addd2272b6d8b7c8abdd79531420ca3b";

    private const string PublishedSignature = "z5gHdu3pxVV4ADMyk467wOWDQ9q6BQzR3nfMTjc/DaQ=";

    private const string PublishedAuthorization =
        "YXBpX2tleT0iYWRkZDIyNzJiNmQ4YjdjOGFiZGQ3OTUzMTQyMGNhM2IiLCBhbGdvcml0aG09ImhtYWMtc2hhMjU2IiwgaGVhZGVycz0iaG9zdCBkYXRlIHJlcXVlc3QtbGluZSIsIHNpZ25hdHVyZT0iejVnSGR1M3B4VlY0QURNeWs0Njd3T1dEUTlxNkJRelIzbmZNVGpjL0RhUT0i";

    private const string PublishedUrl =
        "wss://spark-api.xf-yun.com/v1.1/chat?authorization=" + PublishedAuthorization +
        "&date=Fri%2C+05+May+2023+10%3A43%3A39+GMT&host=spark-api.xf-yun.com";

    [Fact]
    public void Date_is_rfc_1123_in_gmt()
    {
        var at = new DateTimeOffset(2023, 5, 5, 18, 43, 39, TimeSpan.FromHours(8)); // the same instant seen from Beijing
        Assert.Equal(Date, SparkUrlSigner.Date(at));
    }

    [Fact]
    public void Signature_origin_is_the_published_tmp_string()
    {
        Assert.Equal("host: spark-api.xf-yun.com\ndate: Fri, 05 May 2023 10:43:39 GMT\nGET /v1.1/chat HTTP/1.1", SparkUrlSigner.SignatureOrigin(Host, Path, Date));
    }

    [Fact]
    public void Hmac_digest_is_the_published_tmp_sha_bytes()
    {
        // The page prints tmp_sha as a Python bytes literal:
        // b'\xcf\x98\x07v\xed\xe9\xc5Ux\x0032\x93\x8e\xbb\xc0\xe5\x83C\xda\xba\x05\x0c\xd1\xdew\xccN7?\r\xa4'
        byte[] published =
        [
            0xcf, 0x98, 0x07, (byte)'v', 0xed, 0xe9, 0xc5, (byte)'U', (byte)'x', 0x00, (byte)'3', (byte)'2', 0x93, 0x8e, 0xbb, 0xc0,
            0xe5, 0x83, (byte)'C', 0xda, 0xba, 0x05, 0x0c, 0xd1, 0xde, (byte)'w', 0xcc, (byte)'N', (byte)'7', (byte)'?', (byte)'\r', 0xa4,
        ];
        var digest = HMACSHA256.HashData(Encoding.UTF8.GetBytes(ApiSecret), Encoding.UTF8.GetBytes(SparkUrlSigner.SignatureOrigin(Host, Path, Date)));
        Assert.Equal(published, digest);
        Assert.Equal(Convert.ToBase64String(published), SparkUrlSigner.Signature(ApiSecret, SparkUrlSigner.SignatureOrigin(Host, Path, Date)));
    }

    [Fact]
    public void Signature_authorization_and_url_equal_the_published_values()
    {
        Assert.Equal(PublishedSignature, SparkUrlSigner.Signature(ApiSecret, SparkUrlSigner.SignatureOrigin(Host, Path, Date)));
        Assert.Equal(
            """api_key="addd2272b6d8b7c8abdd79531420ca3b", algorithm="hmac-sha256", headers="host date request-line", signature="z5gHdu3pxVV4ADMyk467wOWDQ9q6BQzR3nfMTjc/DaQ=" """.TrimEnd(),
            SparkUrlSigner.AuthorizationOrigin(ApiKey, PublishedSignature));
        Assert.Equal(PublishedAuthorization, SparkUrlSigner.Authorization(ApiKey, ApiSecret, Host, Path, Date));
        Assert.Equal(PublishedUrl, SparkUrlSigner.SignedUri(new Uri("wss://spark-api.xf-yun.com"), Path, ApiKey, ApiSecret, Date).AbsoluteUri);
    }

    [Fact]
    public void Every_input_changes_the_signature()
    {
        var reference = SparkUrlSigner.Authorization(ApiKey, ApiSecret, Host, Path, Date);
        Assert.NotEqual(reference, SparkUrlSigner.Authorization(ApiKey, ApiSecret + "x", Host, Path, Date));
        Assert.NotEqual(reference, SparkUrlSigner.Authorization(ApiKey, ApiSecret, "spark-api.xf-yun.com:443", Path, Date));
        Assert.NotEqual(reference, SparkUrlSigner.Authorization(ApiKey, ApiSecret, Host, "/v3.5/chat", Date));
        Assert.NotEqual(reference, SparkUrlSigner.Authorization(ApiKey, ApiSecret, Host, Path, "Fri, 05 May 2023 10:43:40 GMT"));
    }

    [Fact]
    public void A_port_is_part_of_the_signed_host_and_the_query_is_form_encoded()
    {
        var uri = SparkUrlSigner.SignedUri(new Uri("ws://127.0.0.1:5123"), "/v3.5/chat", "k", "s", Date);
        Assert.Equal("ws", uri.Scheme);
        Assert.Equal("/v3.5/chat", uri.AbsolutePath);
        var query = uri.Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("127.0.0.1%3A5123", query["host"]);
        Assert.Equal("Fri%2C+05+May+2023+10%3A43%3A39+GMT", query["date"]);
        var authorization = Encoding.UTF8.GetString(Convert.FromBase64String(Uri.UnescapeDataString(query["authorization"])));
        var expected = SparkUrlSigner.Signature("s", "host: 127.0.0.1:5123\ndate: " + Date + "\nGET /v3.5/chat HTTP/1.1");
        Assert.Equal($"api_key=\"k\", algorithm=\"hmac-sha256\", headers=\"host date request-line\", signature=\"{expected}\"", authorization);
    }
}
