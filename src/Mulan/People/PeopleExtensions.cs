using Microsoft.Extensions.Options;

namespace Mulan.People;

public static class PeopleExtensions
{
    public static IServiceCollection AddPeople(this IServiceCollection services)
    {
        services.AddOptions<PeopleOptions>().BindConfiguration(PeopleOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PeopleOptions>, PeopleOptionsValidator>();
        services.AddSingleton<CallerResolver>();
        // The audit log names the instance administrator user behind changes made on the administrator's routes.
        services.AddHttpContextAccessor();
        services.AddSingleton<SignInThrottle>();
        services.AddSingleton<SignInService>();
        return services;
    }

    /// <summary>Sign-in, users and personal tokens. Their access is set per endpoint (see docs/people.md).</summary>
    public static WebApplication MapPeople(this WebApplication app)
    {
        var api = app.MapGroup("/api").WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(64 * 1024));
        api.MapAuth();
        api.MapUsers();
        api.MapTokens();
        return app;
    }
}
