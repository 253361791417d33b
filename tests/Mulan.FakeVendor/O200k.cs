using System.Collections.Concurrent;
using Microsoft.ML.Tokenizers;

namespace Mulan.FakeVendor;

/// <summary>
/// The o200k_base tokenizer (gpt-4o family), loaded once per process from the
/// Microsoft.ML.Tokenizers.Data.O200kBase package, so it works offline.
/// </summary>
internal static class O200k
{
    // Counting is ~40 µs per KB of text; a benchmark sends the same long prompt over and over,
    // so long texts are memoised (short ones are cheaper to count than to hash).
    private const int MemoMinLength = 256;
    private const int MemoMaxEntries = 4096;

    private static readonly Lazy<Tokenizer> Instance = new(() => TiktokenTokenizer.CreateForModel("gpt-4o"));
    private static readonly ConcurrentDictionary<string, int> Memo = new(StringComparer.Ordinal);

    public static Tokenizer Tokenizer => Instance.Value;

    public static int Count(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        if (text.Length < MemoMinLength)
        {
            return Tokenizer.CountTokens(text);
        }

        if (Memo.TryGetValue(text, out var count))
        {
            return count;
        }

        count = Tokenizer.CountTokens(text);
        if (Memo.Count >= MemoMaxEntries)
        {
            Memo.Clear(); // crude bound; a miss only costs a recount
        }

        Memo[text] = count;
        return count;
    }
}
