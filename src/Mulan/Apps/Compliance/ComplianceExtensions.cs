namespace Mulan.Apps.Compliance;

public static class ComplianceExtensions
{
    /// <summary>The offline advertising-compliance checker (its rules compiled once, at start-up) and the workspace rules it reads.</summary>
    public static IServiceCollection AddCompliance(this IServiceCollection services)
    {
        services.AddSingleton<ComplianceChecker>();
        services.AddSingleton<WorkspaceRuleSource>();
        return services;
    }
}
