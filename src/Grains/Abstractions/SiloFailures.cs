namespace OrleansCoord.Grains.Abstractions;

/// <summary>How callers of grains tell a silo that died from a real error, and how long they wait for membership to notice.</summary>
public static class SiloFailures
{
    /// <summary>Enough attempts (10 s in all) to outlast failure detection, which declares a silo dead within about 2 s.</summary>
    public const int Attempts = 40;

    public static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>A call that failed because the silo of its grain is gone or going; the next attempt lands elsewhere.</summary>
    public static bool IsTransient(Exception exception) =>
        exception is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException;
}
