using System.Text;

namespace Mulan.FakeVendor;

/// <summary>
/// The words replies are made of. Each is a common lowercase English word with a leading space,
/// which o200k_base encodes as exactly one token; its pre-tokenizer splits before every
/// " word", so any run of them re-tokenizes to exactly as many tokens as words. That is what
/// lets the ledger count a cut-off stream exactly. <see cref="Verify"/> proves it at startup.
/// </summary>
internal static class ReplyVocabulary
{
    private static readonly string[] Words =
    [
        " the", " quick", " brown", " fox", " jumps", " over", " lazy", " dog",
        " model", " data", " time", " people", " world", " water", " light", " house",
        " system", " number", " place", " work", " life", " day", " hand", " part",
        " point", " state", " home", " game", " book", " city", " story", " music",
        " night", " power", " word", " line", " group", " field", " river", " table",
        " green", " small", " large", " great", " good", " new", " old", " long",
        " little", " right", " and", " with", " from", " into", " under", " after",
        " before", " while", " again", " still", " also", " often", " always", " never",
    ];

    /// <summary>UTF-8 of each word, for the non-streaming body.</summary>
    private static readonly byte[][] WordBytes = [.. Words.Select(Encoding.UTF8.GetBytes)];

    /// <summary>Prebuilt stream deltas <c>{"content":" word"}</c>: no JSON work per chunk.</summary>
    private static readonly byte[][] Deltas = [.. Words.Select(w => Encoding.UTF8.GetBytes($$"""{"content":"{{w}}"}"""))];

    public static int Count => Words.Length;

    /// <summary>Word <paramref name="i"/> of a reply that starts at vocabulary index <paramref name="start"/>.</summary>
    public static int Index(int start, int i) => (int)(((long)start + i) % Words.Length);

    public static ReadOnlySpan<byte> WordUtf8(int index) => WordBytes[index];

    public static byte[] Delta(int index) => Deltas[index];

    /// <summary>Byte length of a reply, so it can be built in one buffer.</summary>
    public static int Utf8Length(int start, int count)
    {
        var total = 0;
        for (var i = 0; i < count; i++)
        {
            total += WordBytes[Index(start, i)].Length;
        }

        return total;
    }

    /// <summary>
    /// Throws unless every word is one token and every prefix of a reply has as many tokens as
    /// words. Checking all ordered pairs plus every prefix of a whole cycle covers every
    /// boundary a reply can contain.
    /// </summary>
    public static void Verify()
    {
        var tokenizer = O200k.Tokenizer;
        var problems = new List<string>();
        foreach (var a in Words)
        {
            if (tokenizer.CountTokens(a) != 1)
            {
                problems.Add($"'{a}' is {tokenizer.CountTokens(a)} tokens");
            }

            foreach (var b in Words)
            {
                if (tokenizer.CountTokens(a + b) != 2)
                {
                    problems.Add($"'{a}{b}' is not 2 tokens");
                }
            }
        }

        var text = new StringBuilder();
        for (var i = 0; i < Words.Length * 2; i++)
        {
            text.Append(Words[i % Words.Length]);
            if (tokenizer.CountTokens(text.ToString()) != i + 1)
            {
                problems.Add($"prefix of {i + 1} words is not {i + 1} tokens");
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException("Reply vocabulary is not one token per word: " + string.Join("; ", problems));
        }
    }
}
