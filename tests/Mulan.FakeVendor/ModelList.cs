using System.Text;

namespace Mulan.FakeVendor;

/// <summary>The fixed <c>GET /v1/models</c> body, built once.</summary>
internal static class ModelList
{
    public const string Chat = "fake-chat";
    public const string Embed = "fake-embed";

    public static readonly byte[] Utf8 = Encoding.UTF8.GetBytes(
        $$"""{"object":"list","data":[{"id":"{{Chat}}","object":"model","created":1700000000,"owned_by":"fake"},{"id":"{{Embed}}","object":"model","created":1700000000,"owned_by":"fake"}]}""");
}
