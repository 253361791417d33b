using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Mulan.Gateway.Adapters.Hunyuan;

/// <summary>
/// Tencent Cloud API 3.0 signature v3 (<c>TC3-HMAC-SHA256</c>) for a JSON <c>POST /</c>. The signed headers are
/// <c>content-type;host;x-tc-action</c>; the caller must send exactly the Content-Type, Host and body it passes here,
/// since the server recomputes the signature from what it received.
/// </summary>
public static class Tc3Signer
{
    public const string Algorithm = "TC3-HMAC-SHA256";
    public const string SignedHeaders = "content-type;host;x-tc-action";

    /// <summary>Every intermediate string of one signature, so each step can be checked against Tencent's example.</summary>
    public sealed record Signature(string CanonicalRequest, string CredentialScope, string StringToSign, string Value, string Authorization);

    /// <param name="host">the Host header as sent, with the port when it is not the scheme's default.</param>
    /// <param name="timestamp">Unix seconds, the value of <c>X-TC-Timestamp</c>; the credential date is its UTC date.</param>
    public static Signature Sign(string secretId, string secretKey, string service, string host, string action, string contentType,
        ReadOnlySpan<byte> body, long timestamp)
    {
        // Header names and values lowercase and trimmed, sorted by name (content-type < host < x-tc-action).
        var canonicalHeaders = $"content-type:{Canonical(contentType)}\nhost:{Canonical(host)}\nx-tc-action:{Canonical(action)}\n";
        var canonicalRequest = $"POST\n/\n\n{canonicalHeaders}\n{SignedHeaders}\n{Hex(SHA256.HashData(body))}";
        var date = DateTimeOffset.FromUnixTimeSeconds(timestamp).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var scope = $"{date}/{service}/tc3_request";
        var stringToSign = $"{Algorithm}\n{timestamp.ToString(CultureInfo.InvariantCulture)}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";
        var value = Hex(HMACSHA256.HashData(SigningKey(secretKey, date, service), Encoding.UTF8.GetBytes(stringToSign)));
        var authorization = $"{Algorithm} Credential={secretId}/{scope}, SignedHeaders={SignedHeaders}, Signature={value}";
        return new Signature(canonicalRequest, scope, stringToSign, value, authorization);
    }

    /// <summary>The derived key <c>SecretSigning</c>: HMAC chain over the date, the service and <c>tc3_request</c>.</summary>
    public static byte[] SigningKey(string secretKey, string date, string service)
    {
        var secretDate = HMACSHA256.HashData(Encoding.UTF8.GetBytes("TC3" + secretKey), Encoding.UTF8.GetBytes(date));
        var secretService = HMACSHA256.HashData(secretDate, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(secretService, "tc3_request"u8);
    }

    private static string Canonical(string value) => value.Trim().ToLowerInvariant();

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
