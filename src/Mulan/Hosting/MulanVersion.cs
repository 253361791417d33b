using System.Reflection;

namespace Mulan.Hosting;

public static class MulanVersion
{
    /// <summary>The informational version of this build: the release and, when the build knew it, the commit
    /// (<c>0.2.0+7831c5c…</c>); what <c>mulan --version</c> prints.</summary>
    public static string Informational { get; } =
        typeof(MulanVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The release alone, for the start-up summary.</summary>
    public static string Current { get; } = Informational.Split('+')[0];
}
