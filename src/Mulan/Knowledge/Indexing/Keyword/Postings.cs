namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>
/// One term's postings: (document, term frequency) pairs interleaved in one array, documents increasing.
/// One writer appends while readers scan without locks: the writer fills an entry (growing into a fresh array
/// when full) before it publishes the new count, and a reader reads the count first, so every entry below that
/// count is complete in whichever array it then reads.
/// </summary>
internal sealed class Postings
{
    private int[] _entries;
    private int _count;

    public Postings() => _entries = new int[4];

    /// <summary>A finished list, for compaction.</summary>
    public Postings(int[] entries, int count)
    {
        _entries = entries;
        _count = count;
    }

    /// <summary>Read the count before <see cref="Entries"/>.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Document of entry i at [2i], its term frequency at [2i + 1].</summary>
    public int[] Entries => Volatile.Read(ref _entries);

    /// <summary>Writer only, documents in increasing order.</summary>
    public void Append(int document, int frequency)
    {
        var count = _count;
        var entries = _entries;
        if (2 * count == entries.Length)
        {
            var grown = new int[entries.Length * 2];
            Array.Copy(entries, grown, 2 * count);
            Volatile.Write(ref _entries, grown);
            entries = grown;
        }

        entries[2 * count] = document;
        entries[(2 * count) + 1] = frequency;
        Volatile.Write(ref _count, count + 1);
    }

    /// <summary>The number of entries whose document is below <paramref name="maxDocument"/>.</summary>
    public static int CountBelow(int[] entries, int count, int maxDocument)
    {
        if (count == 0 || entries[2 * (count - 1)] < maxDocument)
        {
            return count;
        }

        int low = 0, high = count;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (entries[2 * middle] < maxDocument)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    /// <summary>The term frequency in <paramref name="document"/> among the first <paramref name="count"/> entries, or 0.</summary>
    public static int FrequencyOf(int[] entries, int count, int document)
    {
        int low = 0, high = count - 1;
        while (low <= high)
        {
            var middle = (low + high) >>> 1;
            var found = entries[2 * middle];
            if (found == document)
            {
                return entries[(2 * middle) + 1];
            }

            if (found < document)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return 0;
    }
}
