namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Reads an upload into memory, refusing it as soon as it passes <see cref="ParseLimits.MaxInputBytes"/>.
/// Every parser needs random access (PDF cross-reference tables, zip central directories), and a bounded
/// in-memory copy is the simplest way to give it without touching the file system.
/// </summary>
internal static class InputBuffer
{
    private const int ChunkSize = 81_920;

    public static ArraySegment<byte> Read(Stream input, ParseLimits limits, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        ct.ThrowIfCancellationRequested();

        if (input is MemoryStream memory && memory.TryGetBuffer(out var exposed))
        {
            // Already in memory (DocumentParsers hands each parser such a stream): no second copy.
            var position = (int)memory.Position;
            var rest = exposed.Slice(position);
            memory.Position = memory.Length;
            return rest.Count > limits.MaxInputBytes ? throw TooLarge(limits) : rest;
        }

        if (input.CanSeek && input.Length - input.Position > limits.MaxInputBytes)
        {
            throw TooLarge(limits);
        }

        var buffer = new MemoryStream();
        var chunk = new byte[ChunkSize];
        int read;
        while ((read = input.Read(chunk, 0, chunk.Length)) > 0)
        {
            ct.ThrowIfCancellationRequested();
            if (buffer.Length + read > limits.MaxInputBytes)
            {
                throw TooLarge(limits);
            }

            buffer.Write(chunk, 0, read);
        }

        return new ArraySegment<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public static MemoryStream AsStream(ArraySegment<byte> data) =>
        new(data.Array!, data.Offset, data.Count, writable: false, publiclyVisible: true);

    private static DocumentParseException TooLarge(ParseLimits limits) =>
        new($"file is larger than {ByteSize.Format(limits.MaxInputBytes)}");
}
