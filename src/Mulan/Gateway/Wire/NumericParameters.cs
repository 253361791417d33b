using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.Gateway.Wire;

/// <summary>
/// The numeric parameters of the OpenAI request bodies and their documented ranges. A body whose value is out of
/// range, not finite, or not a number at all is refused with 400 naming the parameter, before any limit is spent
/// or anything is sent: a vendor would refuse it anyway (after the gateway had reserved budget for it), or worse,
/// accept a value the gateway then meters wrong (a <c>max_tokens</c> of 10^15 reserves an absurd budget).
/// A JSON <c>null</c> means "not set", as with OpenAI.
/// </summary>
public static class NumericParameters
{
    /// <summary>The most output tokens a request may ask for; well above any model's output limit.</summary>
    public const long MaxOutputTokens = 1_000_000;

    /// <summary>One numeric parameter: its name, range, and whether it must be a whole number.</summary>
    public sealed record Rule(string Name, double Min, double Max, bool Integer)
    {
        public string Describe() => Integer
            ? $"an integer between {Format(Min)} and {Format(Max)}"
            : $"a number between {Format(Min)} and {Format(Max)}";
    }

    public static IReadOnlyList<Rule> Chat { get; } =
    [
        new("temperature", 0, 2, false),
        new("top_p", 0, 1, false),
        new("n", 1, 128, true),
        new("max_tokens", 1, MaxOutputTokens, true),
        new("max_completion_tokens", 1, MaxOutputTokens, true),
        new("presence_penalty", -2, 2, false),
        new("frequency_penalty", -2, 2, false),
        // OpenAI takes any 64-bit integer; the bounds are the doubles a JSON reader keeps exact.
        new("seed", -9_007_199_254_740_991, 9_007_199_254_740_991, true),
        new("top_logprobs", 0, 20, true),
    ];

    public static IReadOnlyList<Rule> Embeddings { get; } =
    [
        new("dimensions", 1, 65_536, true),
    ];

    /// <summary>Each value of <c>logit_bias</c> (keyed by token id).</summary>
    public static Rule LogitBias { get; } = new("logit_bias", -100, 100, false);

    /// <summary>The first bad numeric parameter of the body, or null.</summary>
    public static OpenAIError? Check(GatewayEndpoint endpoint, JsonObject body)
    {
        foreach (var rule in endpoint == GatewayEndpoint.ChatCompletions ? Chat : Embeddings)
        {
            if (Invalid(rule, body[rule.Name]) is { } error)
            {
                return error;
            }
        }
        if (endpoint != GatewayEndpoint.ChatCompletions)
        {
            return null;
        }
        switch (body["logit_bias"])
        {
            case null:
                return null;
            case JsonObject bias:
                foreach (var (token, value) in bias)
                {
                    if (!long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                    {
                        return OpenAIError.BadRequest($"'logit_bias' keys must be token ids (integers); got '{token}'.", "logit_bias", "invalid_value");
                    }
                    if (value is null || Invalid(LogitBias, value) is not null)
                    {
                        return OpenAIError.BadRequest($"'logit_bias' values must be {LogitBias.Describe()}; token '{token}' has {Show(value)}.",
                            "logit_bias", "invalid_value");
                    }
                }
                return null;
            default:
                return OpenAIError.BadRequest("'logit_bias' must be an object mapping token ids to numbers between -100 and 100.", "logit_bias", "invalid_type");
        }
    }

    private static OpenAIError? Invalid(Rule rule, JsonNode? node)
    {
        if (node is null)
        {
            return null;
        }
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number)
        {
            return OpenAIError.BadRequest($"'{rule.Name}' must be {rule.Describe()}; got {Show(node)}.", rule.Name, "invalid_type");
        }
        // A number too large for a double (1e999) is not finite: refused like any other out-of-range value.
        if (!value.TryGetValue<double>(out var d) || !double.IsFinite(d) || d < rule.Min || d > rule.Max || (rule.Integer && Math.Floor(d) != d))
        {
            return OpenAIError.BadRequest($"'{rule.Name}' must be {rule.Describe()}; got {Show(node)}.", rule.Name, "invalid_value");
        }
        return null;
    }

    private static string Show(JsonNode? node)
    {
        if (node is null)
        {
            return "null";
        }
        var text = node.ToJsonString();
        var kind = node.GetValueKind() switch
        {
            JsonValueKind.String => "a string ",
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.True or JsonValueKind.False => "a boolean ",
            _ => "",
        };
        return node is JsonObject or JsonArray ? kind : kind + (text.Length > 40 ? text[..40] + "…" : text);
    }

    private static string Format(double d) => d.ToString("0.##", CultureInfo.InvariantCulture);
}
