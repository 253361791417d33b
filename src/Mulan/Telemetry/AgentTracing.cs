using System.Diagnostics;
using Mulan.Assistant.Runs;

namespace Mulan.Telemetry;

/// <summary>Spans of assistant runs (<c>invoke_agent {app}</c>) and of their tool calls (<c>execute_tool {tool}</c>),
/// after the GenAI agent conventions. The run's model calls are gateway spans beneath the run's.</summary>
public static class AgentTracing
{
    public static Activity? StartRun(string runId)
    {
        var span = TelemetryExtensions.Source.HasListeners() ? TelemetryExtensions.Source.StartActivity("invoke_agent", ActivityKind.Internal) : null;
        span?.SetTag(GenAiNames.OperationName, "invoke_agent");
        span?.SetTag(GenAiNames.MulanRunId, runId);
        return span;
    }

    public static void Described(Activity? span, Run run, string appName)
    {
        if (span is null)
        {
            return;
        }
        span.DisplayName = "invoke_agent " + appName;
        span.SetTag(GenAiNames.AgentName, appName);
        span.SetTag(GenAiNames.AgentId, run.AppId);
        span.SetTag("mulan.app.version", run.AppVersion);
        span.SetTag(GenAiNames.MulanWorkspaceId, run.WorkspaceId);
        span.SetTag(GenAiNames.MulanKeyId, run.KeyId);
    }

    public static void RunEnded(Activity? span, Run run)
    {
        if (span is null)
        {
            return;
        }
        span.SetTag("mulan.run.status", run.Status);
        span.SetTag("mulan.run.steps", run.Steps);
        span.SetTag(GenAiNames.InputTokens, run.PromptTokens);
        span.SetTag(GenAiNames.OutputTokens, run.CompletionTokens);
        if (run.Currency is not null)
        {
            span.SetTag(GenAiNames.MulanCost, (double)run.Cost);
            span.SetTag(GenAiNames.MulanCurrency, run.Currency);
        }
        if (run.Status is RunStatuses.Failed)
        {
            span.SetTag(GenAiNames.ErrorType, "run_failed");
            span.SetStatus(ActivityStatusCode.Error, "run failed");
        }
    }

    public static Activity? StartTool(string runId, PendingCall call, bool recordContent)
    {
        if (!TelemetryExtensions.Source.HasListeners())
        {
            return null;
        }
        var span = TelemetryExtensions.Source.StartActivity("execute_tool " + call.Name, ActivityKind.Internal);
        if (span is null)
        {
            return null;
        }
        span.SetTag(GenAiNames.OperationName, "execute_tool");
        span.SetTag(GenAiNames.ToolName, call.Name);
        span.SetTag(GenAiNames.ToolCallId, call.Id);
        span.SetTag(GenAiNames.ToolType, "function");
        span.SetTag(GenAiNames.MulanRunId, runId);
        if (recordContent)
        {
            span.SetTag(GenAiNames.ToolArguments, call.Arguments);
        }
        return span;
    }

    public static void ToolEnded(Activity? span, bool ok, string? output, bool recordContent)
    {
        if (span is null)
        {
            return;
        }
        if (recordContent)
        {
            span.SetTag(GenAiNames.ToolResult, output);
        }
        if (!ok)
        {
            span.SetTag(GenAiNames.ErrorType, "tool_error");
            span.SetStatus(ActivityStatusCode.Error, "the tool failed");
        }
    }
}
