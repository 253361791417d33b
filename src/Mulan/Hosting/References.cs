using System.Collections.Immutable;

namespace Mulan.Hosting;

/// <summary>
/// What still uses a thing (a knowledge base, a model route), asked before it is deleted. A feature that refers to such
/// things (an app answering from a knowledge base with a route, say) registers a function that names its users of a given
/// one, e.g. <c>["app support-bot"]</c>; while any function names one, deleting it is refused with 409 listing them.
/// Registering is safe at any time; readers never lock.
/// </summary>
public abstract class References
{
    private ImmutableArray<Func<string, CancellationToken, Task<IReadOnlyList<string>>>> _finders = [];

    /// <param name="usersOf">given an id or name, the names of what uses it (empty when nothing does).</param>
    public void Register(Func<string, CancellationToken, Task<IReadOnlyList<string>>> usersOf)
    {
        ArgumentNullException.ThrowIfNull(usersOf);
        ImmutableInterlocked.Update(ref _finders, list => list.Add(usersOf));
    }

    /// <summary>Everything that uses it, in registration order.</summary>
    public async Task<IReadOnlyList<string>> UsersOfAsync(string target, CancellationToken ct)
    {
        var users = new List<string>();
        foreach (var finder in _finders)
        {
            users.AddRange(await finder(target, ct));
        }
        return users;
    }
}
