namespace Mulan.Hosting;

/// <summary>Exit codes of every <c>mulan</c> command.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>Bad flags, bad configuration, or a request the server refused: the message says what to fix.</summary>
    public const int UserError = 1;
    /// <summary>Something outside the user's input failed: storage, network, the server.</summary>
    public const int SystemError = 2;
}
