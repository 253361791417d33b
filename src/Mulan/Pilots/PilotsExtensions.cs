namespace Mulan.Pilots;

/// <summary>Pilots: scope under change control, the cost ledger against the contract, acceptance and the signed report.</summary>
public static class PilotsExtensions
{
    public static IServiceCollection AddPilots(this IServiceCollection services)
    {
        services.AddSingleton<PilotService>();
        return services;
    }

    public static IEndpointRouteBuilder MapPilotsApi(this IEndpointRouteBuilder app) => app.MapPilots();
}
