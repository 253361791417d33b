using System.Globalization;
using Mulan.Access;

namespace Mulan.Gateway;

/// <summary>
/// The evaluation run an item is being asked for, carried across the gateway calls this server makes to itself over
/// HTTP on the run's behalf (a knowledge base's query embedding, reranking and answer, see <c>SelfGateway</c>), so that
/// those usage records carry the run too and their cost is counted in the item's. In-process calls are marked with the
/// <see cref="EvaluationCall"/> feature instead; this one travels as the <see cref="Header"/> header, which the gateway
/// believes only from this server's own service keys (whose secrets never leave the process).
/// </summary>
public sealed class EvaluationScope
{
    public const string Header = "x-mulan-evaluation-run";
    private const int MaxRunIdLength = 64;
    private static readonly AsyncLocal<EvaluationScope?> s_current = new();
    private readonly Lock _gate = new();
    private readonly List<(decimal Amount, string? Currency)> _costs = [];
    private long _promptTokens, _completionTokens;

    private EvaluationScope(string runId) => RunId = runId;

    public string RunId { get; }

    /// <summary>The scope of the item being asked on this async flow, if any.</summary>
    public static EvaluationScope? Current => s_current.Value;

    /// <summary>Starts a scope for the rest of the calling async method (an async local reverts when the method returns).</summary>
    public static EvaluationScope Begin(string runId) => s_current.Value = new EvaluationScope(runId);

    /// <summary>Counts one self-call's cost (from its <c>x-mulan-cost</c> headers) and, for chat, its tokens.</summary>
    public void Add(string? cost, string? currency, long promptTokens = 0, long completionTokens = 0)
    {
        var amount = decimal.TryParse(cost, NumberStyles.Number, CultureInfo.InvariantCulture, out var a) ? a : 0m;
        lock (_gate)
        {
            _costs.Add((amount, string.IsNullOrEmpty(currency) ? null : currency));
            _promptTokens += promptTokens;
            _completionTokens += completionTokens;
        }
    }

    public IReadOnlyList<(decimal Amount, string? Currency)> Costs
    {
        get
        {
            lock (_gate)
            {
                return [.. _costs];
            }
        }
    }

    public (long Prompt, long Completion) Tokens
    {
        get
        {
            lock (_gate)
            {
                return (_promptTokens, _completionTokens);
            }
        }
    }

    /// <summary>The run a request says it is made for, believed only from a knowledge or evaluation service key.</summary>
    public static string? FromHeader(HttpRequest request, VirtualKey key)
    {
        if (!key.Id.StartsWith(ServiceKeys.KeyIdPrefix, StringComparison.Ordinal) && !key.Id.StartsWith(ServiceKeys.EvaluationKeyIdPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        var value = request.Headers[Header].ToString();
        return value.Length is > 0 and <= MaxRunIdLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? value : null;
    }
}
