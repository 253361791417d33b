namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Turns whatever a third-party reader throws on a broken file into a user-facing reason. Readers of
/// hostile input fail in many ways (format exceptions, index errors, null dereferences); the worker must
/// get one clear failure, not a crash. Cancellation and our own reasons pass through untouched.
/// </summary>
internal static class ParseFailure
{
    public static T Guard<T>(string corruptReason, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (InsufficientExecutionStackException ex)
        {
            throw new DocumentParseException("document structure is nested too deeply", ex);
        }
        catch (Exception ex) when (IsReaderFailure(ex))
        {
            throw new DocumentParseException(corruptReason, ex);
        }
    }

    public static bool IsReaderFailure(Exception ex) =>
        ex is not (DocumentParseException or OperationCanceledException or OutOfMemoryException);
}
