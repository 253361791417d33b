namespace Mulan.Access;

/// <summary>The secret a request presents as <c>Authorization: Bearer ...</c>, or null.</summary>
public static class BearerToken
{
    public static string? Of(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }
}
