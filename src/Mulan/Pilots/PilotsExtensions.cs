namespace Mulan.Pilots;

/// <summary>Pilots: scope under change control, the cost ledger against the contract, acceptance and the signed report.</summary>
public static class PilotsExtensions
{
    public static IServiceCollection AddPilots(this IServiceCollection services)
    {
        services.AddOptions<PilotOptions>().BindConfiguration(PilotOptions.Section).ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<PilotOptions>, PilotOptionsValidator>();
        services.AddSingleton<PilotService>();
        services.AddHostedService<PilotAlertWatcher>();
        return services;
    }

    public static IEndpointRouteBuilder MapPilotsApi(this IEndpointRouteBuilder app) => app.MapPilots();
}
