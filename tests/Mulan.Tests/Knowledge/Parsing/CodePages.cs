using System.Text;

namespace Mulan.Tests.Knowledge.Parsing;

/// <summary>Legacy Chinese encodings for writing test files.</summary>
internal static class CodePages
{
    private static readonly Lazy<bool> Registered = new(() =>
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return true;
    });

    public static Encoding Get(string name)
    {
        _ = Registered.Value;
        return Encoding.GetEncoding(name);
    }
}
