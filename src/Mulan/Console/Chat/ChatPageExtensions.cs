using Microsoft.Extensions.Options;
using Mulan.Storage;

namespace Mulan.Console.Chat;

/// <summary>The employee chat page: <c>/chat/{slug}</c>, its API <c>/api/chat/{slug}</c>, share links and the widget.</summary>
public static class ChatPageExtensions
{
    public static IServiceCollection AddChatPage(this IServiceCollection services)
    {
        services.AddOptions<ChatPageOptions>().BindConfiguration(ChatPageOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChatPageOptions>, ChatPageOptionsValidator>();
        services.AddSingleton<IChatStore, Storage.ShareStore>();
        services.AddSingleton<ConsoleServiceKey>();
        services.AddSingleton<ChatAccess>();
        services.AddSingleton<ChatApps>();
        services.AddSingleton<ChatRelay>();
        return services;
    }

    public static IEndpointRouteBuilder MapChatPage(this IEndpointRouteBuilder routes)
    {
        routes.MapChatApi();
        routes.MapShares();
        routes.MapChatPages();
        return routes;
    }
}
