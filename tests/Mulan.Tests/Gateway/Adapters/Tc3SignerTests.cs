using System.Text;
using Mulan.Gateway.Adapters.Hunyuan;

namespace Mulan.Tests.Gateway.Adapters;

/// <summary>
/// The TC3-HMAC-SHA256 signer against Tencent Cloud's own worked example: "签名方法 v3" of API 3.0
/// (cloud.tencent.com/document/api/213/30654, the same text in every product's API docs), CVM DescribeInstances in
/// ap-guangzhou at X-TC-Timestamp 1551113065, body {"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"],
/// "Name": "instance-name"}]} with the escapes as literal bytes, Content-Type "application/json; charset=utf-8",
/// SignedHeaders content-type;host;x-tc-action.
/// The document masks its key pair, but it computes every published value with the masked strings themselves: its
/// demo says to set TENCENTCLOUD_SECRET_ID to "AKID" + 32 '*' and TENCENTCLOUD_SECRET_KEY to 32 '*'. With exactly
/// those, the published payload hash, CanonicalRequest, StringToSign, SecretSigning, Signature and Authorization
/// are all reproduced, so the whole chain (key derivation included) is checked, not only the key-free half.
/// </summary>
public sealed class Tc3SignerTests
{
    private const string SecretId = "AKID********************************";
    private const string SecretKey = "********************************";
    private const string Payload = """{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}""";

    private static Tc3Signer.Signature Example(string body = Payload, long timestamp = 1551113065) => Tc3Signer.Sign(
        SecretId, SecretKey, "cvm", "cvm.tencentcloudapi.com", "DescribeInstances", "application/json; charset=utf-8", Encoding.UTF8.GetBytes(body), timestamp);

    [Fact]
    public void The_published_example_is_reproduced_step_by_step()
    {
        Assert.Equal(32, SecretKey.Length);
        var signature = Example();

        // Step 1, as published (the last line is the published payload hash).
        Assert.Equal("""
            POST
            /

            content-type:application/json; charset=utf-8
            host:cvm.tencentcloudapi.com
            x-tc-action:describeinstances

            content-type;host;x-tc-action
            35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064
            """.ReplaceLineEndings("\n"), signature.CanonicalRequest);

        // Step 2: the UTC date (1551113065 is already 2019-02-26 in UTC+8) and the published canonical-request hash.
        Assert.Equal("2019-02-25/cvm/tc3_request", signature.CredentialScope);
        Assert.Equal("""
            TC3-HMAC-SHA256
            1551113065
            2019-02-25/cvm/tc3_request
            7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84
            """.ReplaceLineEndings("\n"), signature.StringToSign);

        // Step 3: the published derived key SecretSigning, then the signature.
        Assert.Equal("b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af",
            Convert.ToHexStringLower(Tc3Signer.SigningKey(SecretKey, "2019-02-25", "cvm")));
        Assert.Equal("10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f", signature.Value);

        // Step 4: the published Authorization header.
        Assert.Equal("TC3-HMAC-SHA256 Credential=AKID********************************/2019-02-25/cvm/tc3_request, " +
            "SignedHeaders=content-type;host;x-tc-action, Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f", signature.Authorization);
    }

    [Fact]
    public void The_signature_covers_the_exact_body_the_key_and_the_date()
    {
        var published = Example().Value;
        // The escaped and the decoded forms of the same JSON are different bytes, so different signatures.
        Assert.NotEqual(published, Example(body: """{"Limit": 1, "Filters": [{"Values": ["未命名"], "Name": "instance-name"}]}""").Value);
        Assert.NotEqual(published, Tc3Signer.Sign(SecretId, SecretKey + "x", "cvm", "cvm.tencentcloudapi.com", "DescribeInstances",
            "application/json; charset=utf-8", Encoding.UTF8.GetBytes(Payload), 1551113065).Value);
        var nextDay = Example(timestamp: 1551113065 + 86400);
        Assert.Equal("2019-02-26/cvm/tc3_request", nextDay.CredentialScope);
        Assert.NotEqual(published, nextDay.Value);
    }

    [Fact]
    public void A_host_with_a_port_is_signed_as_sent()
    {
        var signature = Tc3Signer.Sign("AKIDfake", "k", "hunyuan", "127.0.0.1:8443", "ChatCompletions", "application/json", "{}"u8, 1700000000);
        Assert.Contains("\nhost:127.0.0.1:8443\nx-tc-action:chatcompletions\n", signature.CanonicalRequest, StringComparison.Ordinal);
        Assert.StartsWith("content-type:application/json\n", signature.CanonicalRequest.Split("\n", 4)[3], StringComparison.Ordinal);
        Assert.StartsWith("TC3-HMAC-SHA256 Credential=AKIDfake/2023-11-14/hunyuan/tc3_request, ", signature.Authorization, StringComparison.Ordinal);
    }
}
