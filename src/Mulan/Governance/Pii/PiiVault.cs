using System.Text.Encodings.Web;
using System.Text.Json;

namespace Mulan.Governance.Pii;

/// <summary>
/// One request's placeholders and the values they stand for. The same value always gets the same placeholder, so the
/// model can refer to it consistently. Belongs to one request; not thread-safe.
/// </summary>
public sealed class PiiVault
{
    private readonly Dictionary<string, string> _byOriginal = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _byPlaceholder = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    public int Count => _byPlaceholder.Count;

    /// <summary>Placeholder → original.</summary>
    public IReadOnlyDictionary<string, string> Entries => _byPlaceholder;

    /// <summary>The placeholder for a value, made on first use (numbered per kind from 1).</summary>
    public string PlaceholderFor(string kind, string original)
    {
        if (_byOriginal.TryGetValue(original, out var known))
        {
            return known;
        }
        var index = _counts.GetValueOrDefault(kind) + 1;
        _counts[kind] = index;
        var placeholder = PiiPlaceholder.Format(kind, index);
        _byOriginal[original] = placeholder;
        _byPlaceholder[placeholder] = original;
        return placeholder;
    }

    /// <summary>Puts the originals back. Placeholders this vault did not make are left as they are.</summary>
    public string Restore(string text) => Restore(text, jsonString: false);

    /// <summary>
    /// Puts the originals back; with <paramref name="jsonString"/> each original is escaped as inside a JSON string, for
    /// text that is JSON (tool-call arguments), where a quote or backslash in a value would otherwise break it.
    /// </summary>
    public string Restore(string text, bool jsonString)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_byPlaceholder.Count == 0 || !text.Contains(PiiPlaceholder.Open, StringComparison.Ordinal))
        {
            return text;
        }
        // One pass: a restored value is never looked at again, even if it is placeholder-shaped itself.
        return PiiPlaceholder.Pattern().Replace(text, m => !_byPlaceholder.TryGetValue(m.Value, out var original) ? m.Value
            : jsonString ? JsonEncodedText.Encode(original, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString()
            : original);
    }
}
