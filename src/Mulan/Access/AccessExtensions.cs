namespace Mulan.Access;

public static class AccessExtensions
{
    public static IServiceCollection AddAccess(this IServiceCollection services)
    {
        services.AddSingleton<KeyRing>();
        services.AddSingleton<AccessService>();
        services.AddSingleton<ServiceKeys>();
        services.AddSingleton<AdminKey>();
        return services;
    }
}
