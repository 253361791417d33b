namespace Mulan.Hosting;

/// <summary>Exit codes of every <c>mulan</c> command.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>Bad flags, bad configuration, or a request the server refused: the message says what to fix.</summary>
    public const int UserError = 1;
    /// <summary>Something outside the user's input failed: storage, network, the server.</summary>
    public const int SystemError = 2;
    /// <summary>The command worked, but what it measured missed a threshold it was given (<c>eval run --fail-under</c>).</summary>
    public const int ThresholdMissed = 3;
}
