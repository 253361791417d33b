namespace Mulan.Evaluations;

/// <summary>Evaluation sets, runs against apps and model routes, compare and bake-off.</summary>
public static class EvaluationExtensions
{
    public static IServiceCollection AddEvaluations(this IServiceCollection services)
    {
        services.AddSingleton<EvaluationRunner>();
        services.AddSingleton<IEvaluationResults, EvaluationResults>();
        services.AddHostedService<EvaluationResumer>();
        return services;
    }

    public static IEndpointRouteBuilder MapEvaluations(this IEndpointRouteBuilder app) => app.MapEvaluationEndpoints();
}
