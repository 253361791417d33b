using System.Buffers;

namespace Mulan.FakeVendor;

/// <summary>
/// A request body read whole into a pooled array; dispose to give the array back.
/// Pooling keeps the per-request allocations down when requests are not recorded.
/// </summary>
internal sealed class RequestBody : IDisposable
{
    private byte[] _array;

    private RequestBody(byte[] array, int length)
    {
        _array = array;
        Length = length;
    }

    public static RequestBody Empty { get; } = new([], 0);

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, Length);

    public static async Task<RequestBody> ReadAsync(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        var array = ArrayPool<byte>.Shared.Rent(4096);
        var length = 0;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(context.RequestAborted);
                foreach (var segment in result.Buffer)
                {
                    if (length + segment.Length > array.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(array.Length * 2, length + segment.Length));
                        array.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(array);
                        array = bigger;
                    }

                    segment.Span.CopyTo(array.AsSpan(length));
                    length += segment.Length;
                }

                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return new RequestBody(array, length);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(array);
            throw;
        }
    }

    public void Dispose()
    {
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = [];
        }
    }
}
