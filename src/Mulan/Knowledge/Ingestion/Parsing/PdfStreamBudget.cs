using System.IO.Compression;
using System.Runtime.InteropServices;
using UglyToad.PdfPig.Filters;
using UglyToad.PdfPig.Tokens;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// PdfPig inflates streams without a cap, so a 1 MB FlateDecode stream of zeros could claim gigabytes.
/// This filter provider counts every decoded byte against <see cref="ParseLimits.MaxInflatedBytes"/>;
/// Flate streams are measured before PdfPig decodes them, so a bomb is refused before it is allocated.
/// </summary>
internal sealed class PdfStreamBudget(long maxBytes) : IFilterProvider
{
    private readonly IFilterProvider _inner = DefaultFilterProvider.Instance;
    private long _spent;

    /// <summary>Set once the budget is exceeded; PdfPig may wrap or swallow the exception, so the parser checks this.</summary>
    public string? Failure { get; private set; }

    public IReadOnlyList<IFilter> GetFilters(DictionaryToken dictionary) => Wrap(_inner.GetFilters(dictionary));

    public IReadOnlyList<IFilter> GetNamedFilters(IReadOnlyList<NameToken> names) => Wrap(_inner.GetNamedFilters(names));

    public IReadOnlyList<IFilter> GetAllFilters() => Wrap(_inner.GetAllFilters());

    private IFilter[] Wrap(IReadOnlyList<IFilter> filters) => [.. filters.Select(f => new CountingFilter(this, f))];

    private void Spend(long bytes)
    {
        _spent += bytes;
        if (_spent > maxBytes)
        {
            Failure ??= $"PDF streams expand past {ByteSize.Format(maxBytes)}";
            throw new DocumentParseException(Failure);
        }
    }

    /// <summary>Inflates into nothing, stopping as soon as the remaining budget is spent.</summary>
    private long MeasureFlate(Memory<byte> input)
    {
        var segment = MemoryMarshal.TryGetArray<byte>(input, out var array) ? array : new ArraySegment<byte>(input.ToArray());
        var remaining = maxBytes - _spent;
        var buffer = new byte[81_920];
        long total = 0;
        try
        {
            using var inflater = new ZLibStream(new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false), CompressionMode.Decompress);
            int read;
            while ((read = inflater.Read(buffer, 0, buffer.Length)) > 0)
            {
                total += read;
                if (total > remaining)
                {
                    break;
                }
            }
        }
        catch (InvalidDataException)
        {
            // Damaged streams are PdfPig's to judge; what inflated so far still counts.
        }

        return total;
    }

    private sealed class CountingFilter(PdfStreamBudget budget, IFilter inner) : IFilter
    {
        public bool IsSupported => inner.IsSupported;

        public Memory<byte> Decode(Memory<byte> input, DictionaryToken streamDictionary, IFilterProvider filterProvider, int filterIndex)
        {
            if (inner is FlateFilter)
            {
                budget.Spend(budget.MeasureFlate(input));
                return inner.Decode(input, streamDictionary, filterProvider, filterIndex);
            }

            // Other filters expand far less (run-length at most 128:1); count what they produced.
            var output = inner.Decode(input, streamDictionary, filterProvider, filterIndex);
            budget.Spend(output.Length);
            return output;
        }
    }
}
