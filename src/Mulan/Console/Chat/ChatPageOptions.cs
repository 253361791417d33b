using Microsoft.Extensions.Options;

namespace Mulan.Console.Chat;

/// <summary>The employee chat page (<c>/chat/{slug}</c>), its API and the widget. Bound from the <c>ChatPage</c> section.</summary>
public sealed class ChatPageOptions
{
    public const string Section = "ChatPage";

    /// <summary>Origins (<c>https://intranet.example</c>) allowed to frame <c>/chat/{slug}?embed=1</c>, i.e. to host the
    /// widget. Default none: no page may frame the chat (<c>frame-ancestors 'none'</c>).</summary>
    public IList<string> WidgetOrigins { get; } = [];

    /// <summary>Longest message a user may send, in characters. Default 4,000.</summary>
    public int MaxMessageCharacters { get; set; } = 4_000;

    /// <summary>Messages per minute one share link may send (all its users together). Default 20.</summary>
    public int ShareRequestsPerMinute { get; set; } = 20;

    /// <summary>Longest lifetime of a share link, in days (also the default when none is asked). Default 365.</summary>
    public int MaxShareDays { get; set; } = 365;
}

internal sealed class ChatPageOptionsValidator : IValidateOptions<ChatPageOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatPageOptions o)
    {
        var errors = new List<string>();
        void Range(int value, int min, int max, string setting)
        {
            if (value < min || value > max)
            {
                errors.Add($"{ChatPageOptions.Section}:{setting}: must be between {min} and {max} (got {value})");
            }
        }
        Range(o.MaxMessageCharacters, 1, 8_000, nameof(o.MaxMessageCharacters));
        Range(o.ShareRequestsPerMinute, 1, 100_000, nameof(o.ShareRequestsPerMinute));
        Range(o.MaxShareDays, 1, 3650, nameof(o.MaxShareDays));
        for (var i = 0; i < o.WidgetOrigins.Count; i++)
        {
            // An origin goes into a CSP header: exactly scheme://host[:port], nothing that could end the directive.
            if (!Uri.TryCreate(o.WidgetOrigins[i], UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")
                || uri.GetLeftPart(UriPartial.Authority) != o.WidgetOrigins[i].TrimEnd('/') || o.WidgetOrigins[i].Contains(';') || o.WidgetOrigins[i].Contains(' '))
            {
                errors.Add($"{ChatPageOptions.Section}:{nameof(o.WidgetOrigins)}:{i}: must be an origin like https://intranet.example (got '{o.WidgetOrigins[i]}')");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
