using System.Collections.Immutable;

namespace Mulan.Knowledge.Lifecycle;

/// <summary>
/// What still uses a knowledge base, asked before it is deleted. A feature that refers to knowledge bases (an app
/// answering from one, say) registers a function that names its users of a given knowledge base, e.g.
/// <c>["app support-bot"]</c>; while any function names one, deleting the knowledge base is refused with 409 listing
/// them, unless forced. Registering is safe at any time; readers never lock.
/// </summary>
public sealed class KnowledgeBaseReferences
{
    private ImmutableArray<Func<string, CancellationToken, Task<IReadOnlyList<string>>>> _finders = [];

    /// <param name="usersOf">given a knowledge base id, the names of what uses it (empty when nothing does).</param>
    public void Register(Func<string, CancellationToken, Task<IReadOnlyList<string>>> usersOf)
    {
        ArgumentNullException.ThrowIfNull(usersOf);
        ImmutableInterlocked.Update(ref _finders, list => list.Add(usersOf));
    }

    /// <summary>Everything that uses the knowledge base, in registration order.</summary>
    public async Task<IReadOnlyList<string>> UsersOfAsync(string knowledgeBaseId, CancellationToken ct)
    {
        var users = new List<string>();
        foreach (var finder in _finders)
        {
            users.AddRange(await finder(knowledgeBaseId, ct));
        }
        return users;
    }
}
