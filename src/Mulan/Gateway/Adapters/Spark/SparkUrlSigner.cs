using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Mulan.Gateway.Adapters.Spark;

/// <summary>
/// iFlytek's URL signing for its WebSocket APIs (Spark chat, IAT, TTS): the credentials travel in the query
/// string of the handshake, as an HMAC-SHA256 over the host, the date and the request line.
/// <list type="number">
/// <item><c>signature_origin = "host: {host}\ndate: {date}\nGET {path} HTTP/1.1"</c>;</item>
/// <item><c>signature = Base64(HMAC-SHA256(APISecret, signature_origin))</c>;</item>
/// <item><c>authorization_origin = api_key="…", algorithm="hmac-sha256", headers="host date request-line", signature="…"</c>;</item>
/// <item><c>authorization = Base64(authorization_origin)</c>, sent with <c>date</c> and <c>host</c> form-encoded.</item>
/// </list>
/// Every step is a pure function so it can be checked against the vendor's published example.
/// </summary>
public static class SparkUrlSigner
{
    /// <summary>RFC 1123 in GMT, e.g. <c>Fri, 05 May 2023 10:43:39 GMT</c>; iFlytek refuses a skew over 300 s.</summary>
    public static string Date(DateTimeOffset now) => now.ToUniversalTime().ToString("r", CultureInfo.InvariantCulture);

    /// <summary>Splits an iFlytek provider key <c>APPID:APIKey:APISecret</c> (Spark and the speech APIs share it).</summary>
    /// <param name="product">names the provider in the error, e.g. Spark or iFlytek.</param>
    public static (string AppId, string ApiKey, string ApiSecret) Credentials(string? providerKey, string product)
    {
        var parts = (providerKey ?? "").Split(':');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0))
        {
            throw VendorError.Auth($"the {product} provider's apiKey must have the form APPID:APIKey:APISecret (three parts separated by ':')");
        }
        return (parts[0], parts[1], parts[2]);
    }

    public static string SignatureOrigin(string host, string path, string date) => $"host: {host}\ndate: {date}\nGET {path} HTTP/1.1";

    public static string Signature(string apiSecret, string signatureOrigin) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(apiSecret), Encoding.UTF8.GetBytes(signatureOrigin)));

    public static string AuthorizationOrigin(string apiKey, string signature) =>
        $"api_key=\"{apiKey}\", algorithm=\"hmac-sha256\", headers=\"host date request-line\", signature=\"{signature}\"";

    public static string Authorization(string apiKey, string apiSecret, string host, string path, string date) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(AuthorizationOrigin(apiKey, Signature(apiSecret, SignatureOrigin(host, path, date)))));

    /// <summary><c>authorization=…&amp;date=…&amp;host=…</c>, encoded as the vendor's samples do (Python's <c>urlencode</c>).</summary>
    public static string Query(string apiKey, string apiSecret, string host, string path, string date) =>
        $"authorization={FormEncode(Authorization(apiKey, apiSecret, host, path, date))}&date={FormEncode(date)}&host={FormEncode(host)}";

    /// <summary>The signed handshake URL: <paramref name="socketBase"/> (<c>wss://host[:port]</c>) + path + query.</summary>
    public static Uri SignedUri(Uri socketBase, string path, string apiKey, string apiSecret, string date) =>
        new($"{socketBase.GetLeftPart(UriPartial.Authority)}{path}?{Query(apiKey, apiSecret, socketBase.Authority, path, date)}");

    // application/x-www-form-urlencoded: unreserved characters kept, space as '+', everything else %XX.
    private static string FormEncode(string value) => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal);
}
