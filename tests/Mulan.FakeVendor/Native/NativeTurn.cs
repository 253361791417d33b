using System.Text;
using System.Text.Json;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// A native-protocol chat request as the shared reply engine sees it: which model (with its <c>+options</c>),
/// streamed or not, how many prompt tokens it bills, and the seed of its reply.
/// </summary>
public sealed record NativeTurn(string Model, bool Stream, int PromptTokens, int ReplyStart)
{
    /// <summary>Prompt tokens of a native body: the o200k tokens of every string value in it except the model name.</summary>
    public static int CountPrompt(JsonElement body, string? skip = null)
    {
        var total = 0;
        Walk(body);
        return total;

        void Walk(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject())
                    {
                        if (p.Name != skip)
                        {
                            Walk(p.Value);
                        }
                    }
                    break;
                case JsonValueKind.Array:
                    foreach (var item in e.EnumerateArray())
                    {
                        Walk(item);
                    }
                    break;
                case JsonValueKind.String:
                    total += O200k.Count(e.GetString());
                    break;
            }
        }
    }

    public static int Seed(ReadOnlySpan<byte> body) => (int)(ChatRequest.Fnv1a(body) % (uint)ReplyVocabulary.Count);
}

/// <summary>What the model "says": words of the reply vocabulary, or the two scripted tool calls.</summary>
public sealed class NativeReply
{
    internal NativeReply(NativeTurn turn, ModelSpec spec)
    {
        Turn = turn;
        Tools = spec.Tools;
        Words = spec.Tools ? [] : [.. Enumerable.Range(0, spec.Chunks).Select(i => Encoding.UTF8.GetString(ReplyVocabulary.WordUtf8(ReplyVocabulary.Index(turn.ReplyStart, i))))];
        CompletionTokens = spec.Tools ? ToolCallScript.TotalTokens : spec.Chunks;
    }

    public NativeTurn Turn { get; }
    public bool Tools { get; }
    public IReadOnlyList<string> Words { get; }
    public string Text => string.Concat(Words);
    public int CompletionTokens { get; }

    /// <summary>The scripted calls: (name, arguments JSON text).</summary>
    public static IReadOnlyList<(string Name, string Arguments)> ToolCalls { get; } = [.. ToolCallScript.Calls.Select(c => (c.Name, c.Arguments))];

    /// <summary>Argument pieces of call <paramref name="index"/> as streamed (each one token).</summary>
    public static IReadOnlyList<string> ArgumentPieces(int index) => ToolCallScript.Calls[index].Pieces;

    public static int NameTokens(int index) => ToolCallScript.Calls[index].NameTokens;
}

/// <summary>The failure classes every native fake can answer with, each in its vendor's own words.</summary>
public enum FakeErrorKind { Auth, RateLimit, Quota, ContentFilter, Overloaded, Server, BadRequest }
