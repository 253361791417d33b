using System.Text;

namespace Mulan.Governance.Pii;

/// <summary>
/// Restores placeholders in a streamed answer, delta by delta. A placeholder may arrive split over any number of
/// deltas, so only a possible unfinished placeholder at the very end is held back (at most ~50 characters); anything
/// that turns out not to be one is emitted unchanged. Use one restorer per stream of text (the content, and each
/// tool call's arguments separately).
/// </summary>
/// <param name="jsonString">escape restored values for JSON (for tool-call arguments), see <see cref="PiiVault.Restore(string, bool)"/>.</param>
public sealed class PiiStreamRestorer(PiiVault vault, bool jsonString = false)
{
    private readonly StringBuilder _held = new();

    /// <summary>Takes the next delta and returns the text to emit now (possibly empty).</summary>
    public string Feed(string delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (_held.Length == 0 && !delta.Contains(PiiPlaceholder.Open, StringComparison.Ordinal))
        {
            return delta; // the common case: nothing to hold, nothing to restore
        }
        var text = _held.Append(delta).ToString();
        var hold = PiiPlaceholder.PartialStart(text);
        _held.Clear().Append(text, hold, text.Length - hold);
        return vault.Restore(text[..hold], jsonString);
    }

    /// <summary>At the end of the stream: whatever was held back, which can no longer become a placeholder.</summary>
    public string Flush()
    {
        var rest = _held.ToString();
        _held.Clear();
        return vault.Restore(rest, jsonString);
    }
}
