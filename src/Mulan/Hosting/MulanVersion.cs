using System.Reflection;

namespace Mulan.Hosting;

public static class MulanVersion
{
    /// <summary>The informational version of this build, without the source revision suffix.</summary>
    public static string Current { get; } =
        (typeof(MulanVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];
}
