using System.ComponentModel;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>Options every client verb shares.</summary>
public class ClientSettings : CommandSettings
{
    [CommandOption("--server <URL>")]
    [Description("The Mulan server. Default env MULAN_URL, else http://127.0.0.1:5080.")]
    public string? Server { get; init; }

    [CommandOption("--admin-key <KEY>")]
    [Description("The administrator key. Default env MULAN_ADMIN_KEY.")]
    public string? AdminKey { get; init; }

    [CommandOption("--json")]
    [Description("Print machine-readable JSON instead of tables.")]
    public bool Json { get; init; }

    public Uri ServerUri
    {
        get
        {
            var value = Server ?? Environment.GetEnvironmentVariable("MULAN_URL") ?? "http://127.0.0.1:5080";
            return Uri.TryCreate(value.TrimEnd('/') + "/", UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
                ? uri
                : throw new CliUserException($"--server: '{value}' is not an http(s) URL");
        }
    }

    public string ResolvedAdminKey => AdminKey ?? Environment.GetEnvironmentVariable("MULAN_ADMIN_KEY")
        ?? throw new CliUserException("--admin-key: required (or set MULAN_ADMIN_KEY); the server printed it on its first start");
}

/// <summary>The filters of the ledger-like listings (usage, audit): a time range and a page.</summary>
public class TimeRangeSettings : ClientSettings
{
    [CommandOption("--from <DATE>")]
    [Description("Start (inclusive), ISO 8601 date or date-time, UTC unless an offset is given.")]
    public string? From { get; init; }

    [CommandOption("--to <DATE>")]
    [Description("End (exclusive).")]
    public string? To { get; init; }

    [CommandOption("--page <N>")]
    public int? Page { get; init; }

    [CommandOption("--page-size <N>")]
    public int? PageSize { get; init; }
}

/// <summary>A mistake the user can fix; exit code 1.</summary>
/// <param name="status">the HTTP status when the server refused the request.</param>
public sealed class CliUserException(string message, int? status = null) : Exception(message)
{
    public int? Status { get; } = status;
}
