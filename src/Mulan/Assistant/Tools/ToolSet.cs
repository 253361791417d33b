using System.Text.Json.Nodes;

namespace Mulan.Assistant.Tools;

/// <summary>One tool as the model is offered it.</summary>
/// <param name="Name">unique within a run; matches <c>^[A-Za-z0-9_-]{1,64}$</c> (what every vendor's tool calling accepts).</param>
/// <param name="Parameters">a JSON Schema object (<c>{"type":"object","properties":{...},"required":[...]}</c>).</param>
/// <param name="SideEffect">true when a call changes something: the run pauses for approval before it runs.</param>
/// <param name="Source">the name of the tool source it comes from (an OpenAPI import, an MCP server, <c>knowledge</c>).</param>
public sealed record ToolSpec(string Name, string Description, JsonObject Parameters, bool SideEffect, string Source);

/// <summary>What a tool call returned. <paramref name="Output"/> is what the model reads (already size-capped and with
/// any stored credential redacted); <paramref name="Error"/> says why the call failed.</summary>
public sealed record ToolResult(bool Ok, string Output, string? Error)
{
    public static ToolResult Failed(string error) => new(false, "", error);
}

/// <summary>
/// The tools one run may use, resolved from an assistant app's tool-source names. It is fixed when the run starts:
/// nothing a model says or a tool returns can add to it.
/// </summary>
public abstract class ToolSet : IAsyncDisposable
{
    public abstract IReadOnlyList<ToolSpec> Specs { get; }

    /// <summary>Null when the arguments fit the tool's schema; otherwise what is wrong with them (for the model and the trace).</summary>
    public abstract string? Validate(string tool, JsonObject arguments);

    /// <summary>Runs the tool. Never throws for the tool's own failures (timeouts, unreachable, bad output): they are a failed result.</summary>
    public abstract Task<ToolResult> CallAsync(string tool, JsonObject arguments, CancellationToken ct);

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
