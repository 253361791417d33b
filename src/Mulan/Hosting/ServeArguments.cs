namespace Mulan.Hosting;

/// <summary>What <c>mulan serve</c> was asked for.</summary>
public sealed record ServeArguments(string Urls, string? DataDirectory, string? ConfigFile, string? Database = null)
{
    public const string DefaultUrls = "http://127.0.0.1:5080";
}

/// <summary>A start-up problem the user can fix (bad flag, bad setting); exit code 1.</summary>
public sealed class StartupException(string message) : Exception(message);
