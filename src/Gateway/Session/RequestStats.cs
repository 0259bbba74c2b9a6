namespace OrleansCoord.Gateway.Session;

/// <summary>
/// Packets received and sent, and the time from a request's arrival to its reply (min, average, max, in
/// milliseconds), as ZooKeeper's ServerStats keeps them for a server and for each connection; srst and crst
/// reset them.
/// </summary>
public sealed class RequestStats
{
    // Every reply of a gateway passes here: interlocked counters rather than a lock all connections contend for.
    private long _received;
    private long _sent;
    private long _replies;
    private long _totalMs;
    private long _minMs = long.MaxValue;
    private long _maxMs;

    public long Received => Interlocked.Read(ref _received);

    public long Sent => Interlocked.Read(ref _sent);

    public void CountReceived() => Interlocked.Increment(ref _received);

    public void CountSent() => Interlocked.Increment(ref _sent);

    /// <summary>Records a reply that took <paramref name="elapsed"/> from its request's arrival.</summary>
    public void RecordReply(TimeSpan elapsed)
    {
        var ms = (long)elapsed.TotalMilliseconds;
        Interlocked.Increment(ref _replies);
        Interlocked.Add(ref _totalMs, ms);
        for (var min = Interlocked.Read(ref _minMs); ms < min; min = Interlocked.Read(ref _minMs))
        {
            Interlocked.CompareExchange(ref _minMs, ms, min);
        }

        for (var max = Interlocked.Read(ref _maxMs); ms > max; max = Interlocked.Read(ref _maxMs))
        {
            Interlocked.CompareExchange(ref _maxMs, ms, max);
        }
    }

    /// <summary>Min, average and max latency in milliseconds; zeros before the first reply.</summary>
    public (long Min, double Avg, long Max) Latency()
    {
        var replies = Interlocked.Read(ref _replies);
        var min = Interlocked.Read(ref _minMs);
        return replies == 0 ? (0, 0, 0) : (min == long.MaxValue ? 0 : min, (double)Interlocked.Read(ref _totalMs) / replies, Interlocked.Read(ref _maxMs));
    }

    public void Reset()
    {
        Interlocked.Exchange(ref _received, 0);
        Interlocked.Exchange(ref _sent, 0);
        Interlocked.Exchange(ref _replies, 0);
        Interlocked.Exchange(ref _totalMs, 0);
        Interlocked.Exchange(ref _minMs, long.MaxValue);
        Interlocked.Exchange(ref _maxMs, 0);
    }
}
