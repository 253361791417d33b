namespace Mulan.Apps.Packages;

public static class PackagesExtensions
{
    public static IServiceCollection AddAppPackages(this IServiceCollection services) =>
        services.AddSingleton<PackageExporter>().AddSingleton<PackageImporter>();
}
