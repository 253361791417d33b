using System.Runtime.ExceptionServices;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Runs third-party code whose recursion depth follows the input on a thread with a large stack. A stack
/// overflow cannot be caught in .NET: it ends the process, so the only defence is room to spare.
/// </summary>
internal static class LargeStack
{
    /// <summary>Reserved address space; pages are only committed as the stack actually grows.</summary>
    private const int StackBytes = 64 * 1024 * 1024;

    public static T Run<T>(Func<T> work)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    result = work();
                }
                catch (Exception ex)
                {
                    // Handed back to the caller's thread below, with its original stack trace.
                    failure = ExceptionDispatchInfo.Capture(ex);
                }
            },
            StackBytes)
        {
            IsBackground = true,
            Name = "document parse",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
