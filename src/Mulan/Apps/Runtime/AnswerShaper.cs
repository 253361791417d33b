using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Apps.Runtime;

/// <summary>
/// What an app does to its answer on the way out, whole or as a stream of deltas: the wanted Chinese script
/// (character by character, so a delta converts on its own), banned terms masked, and the maximum length.
/// </summary>
public sealed partial class AnswerShaper
{
    private readonly Func<string, string>? _script;
    private readonly IReadOnlyList<string> _banned;
    // Banned terms in a stream: a term split across deltas is still caught (see StreamingTermFilter).
    private readonly Compliance.StreamingTermFilter? _streamFilter;
    private readonly int? _max;
    private int _released;

    public AnswerShaper(AppDefinition app, string question)
    {
        _script = ScriptFor(app, question);
        _banned = app.Guardrails?.BannedTerms ?? [];
        _streamFilter = _banned.Count > 0 ? Compliance.StreamingTermFilter.Masking(_banned) : null;
        _max = app.Guardrails?.MaxAnswerCharacters;
    }

    /// <summary>Whether the answer was cut at the app's maximum length.</summary>
    public bool Truncated { get; private set; }

    /// <summary>The conversion to the app's answer script, or null when none applies.</summary>
    public static Func<string, string>? ScriptFor(AppDefinition app, string question)
    {
        if (app.Answer?.ConvertScript == false)
        {
            return null;
        }
        switch (app.Answer?.Language ?? "auto")
        {
            case "zh-Hant":
                return ChineseScript.ToTraditional;
            case "zh-Hans":
                return ChineseScript.ToSimplified;
            case "auto":
                // The question's own script, when it shows one.
                if (ChineseScript.ToSimplified(question) != question)
                {
                    return ChineseScript.ToTraditional;
                }
                return ChineseScript.ToTraditional(question) != question ? ChineseScript.ToSimplified : null;
            default:
                return null;
        }
    }

    // Set once the answer shows characters of the wanted script: it is written in it already, and converting it again
    // character by character could only damage it (准 in 批准 is correct Traditional, yet maps to 準).
    private bool _inTargetScript;

    /// <summary>Converts text to the answer's script, unless the answer so far already shows that script.</summary>
    public string Convert(string text)
    {
        if (_script is null || _inTargetScript)
        {
            return text;
        }
        // Converting the other way changes text that holds characters only the wanted script has.
        var other = _script == (Func<string, string>)ChineseScript.ToTraditional ? ChineseScript.ToSimplified(text) : ChineseScript.ToTraditional(text);
        if (other != text)
        {
            _inTargetScript = true;
            return text;
        }
        return _script(text);
    }

    public string Shape(string whole)
    {
        var text = Mask(Convert(whole));
        if (_max is { } max && text.Length > max)
        {
            Truncated = true;
            return text[..max];
        }
        return text;
    }

    // The end of a delta that may be the start of a citation marker (whitespace, "[", "[1"), held until the next delta shows.
    private string _held = "";

    [System.Text.RegularExpressions.GeneratedRegex(@"\s*(\[\d{0,3})?$")]
    private static partial System.Text.RegularExpressions.Regex MarkerStart();

    /// <summary>The part of a streamed delta to send now ("" once the maximum length is reached). A citation marker is
    /// joined to its sentence with a no-break space, as in a whole answer (see <see cref="Knowledge.Answering.CitationMarkers"/>).</summary>
    public string Push(string delta)
    {
        var converted = Convert(delta);
        var text = _held + (_streamFilter?.Push(converted) ?? converted);
        var tail = MarkerStart().Match(text);
        _held = text[tail.Index..];
        var ready = text[..tail.Index];
        return Release(Knowledge.Answering.CitationMarkers.Attach(ready, followsText: _released > 0));
    }

    private string Release(string text)
    {
        if (_max is { } max)
        {
            if (_released + text.Length > max)
            {
                Truncated = true;
                text = text[..Math.Max(0, max - _released)];
            }
        }
        _released += text.Length;
        return text;
    }

    /// <summary>What a stream still holds back at its end.</summary>
    public string Flush()
    {
        var rest = _held + (_streamFilter?.Flush() ?? "");
        _held = "";
        return Release(rest);
    }

    private string Mask(string text)
    {
        if (_banned.Count == 0)
        {
            return text;
        }
        var filter = Compliance.StreamingTermFilter.Masking(_banned);
        return filter.Push(text) + filter.Flush();
    }
}
