namespace Mulan.FakeVendor;

/// <summary>
/// Append-only list that many request threads add to while tests read copies.
/// A lock is enough here: appends are rare next to the work each request does.
/// </summary>
internal sealed class SnapshotList<T>
    where T : class
{
    private readonly Lock _gate = new();
    private readonly List<T> _items = [];

    public void Add(T item)
    {
        lock (_gate)
        {
            _items.Add(item);
        }
    }

    /// <summary>Swaps an item for a corrected one in place (same position), if it is still there.</summary>
    public void Replace(T old, T updated)
    {
        lock (_gate)
        {
            var index = _items.FindIndex(item => ReferenceEquals(item, old));
            if (index >= 0)
            {
                _items[index] = updated;
            }
        }
    }

    public T[] Snapshot()
    {
        lock (_gate)
        {
            return [.. _items];
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _items.Clear();
        }
    }
}
