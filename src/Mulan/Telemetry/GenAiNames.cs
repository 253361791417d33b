using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;

namespace Mulan.Telemetry;

/// <summary>Names from the OpenTelemetry GenAI semantic conventions (development status, as of semconv 1.38), and
/// Mulan's own where the conventions have none.</summary>
public static class GenAiNames
{
    /// <summary>The meter and activity source every Mulan instrument and span belongs to.</summary>
    public const string Source = "Mulan";

    public const string OperationName = "gen_ai.operation.name";
    public const string ProviderName = "gen_ai.provider.name";
    public const string RequestModel = "gen_ai.request.model";
    public const string ResponseModel = "gen_ai.response.model";
    public const string ResponseId = "gen_ai.response.id";
    public const string TokenType = "gen_ai.token.type";
    public const string InputTokens = "gen_ai.usage.input_tokens";
    public const string OutputTokens = "gen_ai.usage.output_tokens";
    public const string InputMessages = "gen_ai.input.messages";
    public const string OutputMessages = "gen_ai.output.messages";
    public const string AgentName = "gen_ai.agent.name";
    public const string AgentId = "gen_ai.agent.id";
    public const string ConversationId = "gen_ai.conversation.id";
    public const string ToolName = "gen_ai.tool.name";
    public const string ToolCallId = "gen_ai.tool.call.id";
    public const string ToolType = "gen_ai.tool.type";
    public const string ToolArguments = "gen_ai.tool.call.arguments";
    public const string ToolResult = "gen_ai.tool.call.result";
    public const string ErrorType = "error.type";
    public const string ServerAddress = "server.address";
    public const string ServerPort = "server.port";

    /// <summary>The provider as configured (<c>openai-main</c>); <see cref="ProviderName"/> is its vendor.</summary>
    public const string MulanProvider = "mulan.provider";
    public const string MulanStatus = "mulan.status";
    public const string MulanRequestId = "mulan.request.id";
    public const string MulanKeyId = "mulan.key.id";
    public const string MulanWorkspaceId = "mulan.workspace.id";
    public const string MulanCost = "mulan.cost";
    public const string MulanCurrency = "mulan.currency";
    public const string MulanAttempt = "mulan.attempt";
    public const string MulanRunId = "mulan.run.id";

    /// <summary>The operation a usage record's endpoint is, as the conventions name it (<c>chat</c>, <c>embeddings</c>)
    /// or, for what they do not cover, the endpoint itself.</summary>
    public static string Operation(string endpoint) => endpoint switch
    {
        "chat.completions" => "chat",
        "embeddings" => "embeddings",
        "app.chat" => "invoke_agent",
        _ => endpoint,
    };

    /// <summary>The conventions' well-known vendor names where one exists; otherwise Mulan's kind name.</summary>
    public static string Vendor(ProviderKind kind) => kind.Protocol switch
    {
        WireProtocol.Anthropic => "anthropic",
        WireProtocol.Gemini => "gcp.gemini",
        WireProtocol.AzureOpenAI => "azure.ai.openai",
        _ => kind.Name switch
        {
            "deepseek" => "deepseek",
            "openai" => "openai",
            _ => kind.Name,
        },
    };

    /// <summary><c>error.type</c> of a record that did not succeed: its HTTP status, as the conventions suggest for HTTP.</summary>
    public static string? ErrorOf(UsageRecord record) =>
        record.Status is UsageStatus.Ok or UsageStatus.Cached ? null
        : record.Status == UsageStatus.ClientAborted ? "client_aborted"
        : record.HttpStatus.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
