using Mulan.Assistant.Mcp;
using Mulan.Assistant.Runs;
using Mulan.Assistant.Schedules;
using Mulan.Assistant.Tools;

namespace Mulan.Assistant;

/// <summary>The digital employee: tool sources, runs with approvals, schedules, and Mulan as an MCP server.</summary>
public static class AssistantExtensions
{
    public static IServiceCollection AddAssistant(this IServiceCollection services)
    {
        services.AddOptions<AssistantOptions>().BindConfiguration(AssistantOptions.Section).ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<AssistantOptions>, AssistantOptionsValidator>();
        services.AddAssistantTools();
        services.AddMulanMcpServer();
        services.AddSingleton<RunEvents>();
        services.AddSingleton<RunService>();
        services.AddSingleton<AssistantChat>();
        services.AddSingleton<ScheduleRunner>();
        services.AddSingleton<ScheduleDelivery>();
        services.AddHostedService<AssistantSweeper>();
        return services;
    }

    public static IEndpointRouteBuilder MapAssistant(this IEndpointRouteBuilder app)
    {
        app.MapToolEndpoints();
        app.MapMulanMcpServer();
        app.MapRuns();
        app.MapSchedules();
        return app;
    }
}
