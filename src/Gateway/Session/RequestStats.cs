using System.Diagnostics;

namespace OrleansCoord.Gateway.Session;

/// <summary>
/// Packets received and sent, and the time from a request's arrival to its reply (min, average, max, in
/// milliseconds), as ZooKeeper's ServerStats keeps them for a server and for each connection; srst and crst
/// reset them.
/// </summary>
public sealed class RequestStats
{
    private readonly Lock _lock = new();
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

    /// <summary>Records a reply to a request that arrived at <paramref name="receivedAt"/> (a Stopwatch timestamp).</summary>
    public void RecordReply(long receivedAt)
    {
        var ms = (long)Stopwatch.GetElapsedTime(receivedAt).TotalMilliseconds;
        lock (_lock)
        {
            _replies++;
            _totalMs += ms;
            _minMs = Math.Min(_minMs, ms);
            _maxMs = Math.Max(_maxMs, ms);
        }
    }

    /// <summary>Min, average and max latency in milliseconds; zeros before the first reply.</summary>
    public (long Min, double Avg, long Max) Latency()
    {
        lock (_lock)
        {
            return _replies == 0 ? (0, 0, 0) : (_minMs, (double)_totalMs / _replies, _maxMs);
        }
    }

    public void Reset()
    {
        lock (_lock)
        {
            Interlocked.Exchange(ref _received, 0);
            Interlocked.Exchange(ref _sent, 0);
            _replies = 0;
            _totalMs = 0;
            _minMs = long.MaxValue;
            _maxMs = 0;
        }
    }
}
