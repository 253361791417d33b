namespace Mulan.Audit;

public static class AuditExtensions
{
    /// <summary>The audit log service; its store is registered by <c>AddStorage</c> with the other stores.</summary>
    public static IServiceCollection AddAudit(this IServiceCollection services) => services.AddSingleton<AuditLog>();
}
