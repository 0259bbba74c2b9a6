using System.Diagnostics;
using HdrHistogram;
using OrleansCoord.Protocol;

namespace OrleansCoord.Bench;

/// <summary>Whether replies now count: the warm-up runs before the window opens and the drain after it closes.</summary>
public sealed class MeasureWindow
{
    private volatile bool _open;

    public bool IsOpen => _open;

    public void Open() => _open = true;

    public void Close() => _open = false;
}

/// <summary>One session's replies: latency histograms in microseconds and counts, taken while the window is open.</summary>
public sealed class SessionStats(MeasureWindow window)
{
    /// <summary>Latencies up to a minute, to three significant digits.</summary>
    public static LongHistogram NewHistogram() => new(60_000_000, 3);

    public LongHistogram Reads { get; } = NewHistogram();

    public LongHistogram Writes { get; } = NewHistogram();

    /// <summary>Replies counted in the window.</summary>
    public long Ops { get; private set; }

    /// <summary>All replies, for the progress display.</summary>
    public long Completed { get; private set; }

    public long Errors { get; private set; }

    public ErrorCode? FirstError { get; private set; }

    public void Record(OpKind kind, long sentAt, ErrorCode err)
    {
        Completed++;
        if (!window.IsOpen)
        {
            return;
        }

        var micros = (Stopwatch.GetTimestamp() - sentAt) * 1_000_000 / Stopwatch.Frequency;
        (kind == OpKind.Read ? Reads : Writes).RecordValue(Math.Clamp(micros, 1, 60_000_000));
        Ops++;
        if (err != ErrorCode.Ok)
        {
            Errors++;
            FirstError ??= err;
        }
    }
}

/// <summary>
/// Keeps a fixed number of requests of one session in flight: every reply that arrives is answered with the
/// next request, until the source runs out or the loop is stopped.
/// </summary>
public sealed class ClosedLoop : IReplyHandler
{
    private readonly BenchSession _session;
    private readonly IRequestSource _source;
    private readonly int _inflight;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _outstanding;
    private volatile bool _stopping;
    private volatile bool _exhausted;

    public ClosedLoop(BenchSession session, IRequestSource source, int inflight, SessionStats stats)
    {
        _session = session;
        _source = source;
        _inflight = inflight;
        Stats = stats;
        session.Handler = this;
    }

    public SessionStats Stats { get; }

    public Task Done => _done.Task;

    public void Start()
    {
        // Counted before sending, so replies that overtake the count cannot make the loop look finished.
        Interlocked.Add(ref _outstanding, _inflight);
        var sent = _session.Send(_source, _inflight);
        if (sent < _inflight)
        {
            _exhausted = true;
        }

        if (Interlocked.Add(ref _outstanding, sent - _inflight) == 0)
        {
            _done.TrySetResult();
        }
    }

    public void Stop()
    {
        _stopping = true;
        if (Volatile.Read(ref _outstanding) == 0)
        {
            _done.TrySetResult();
        }
    }

    public void OnReply(OpKind kind, long sentAt, ErrorCode err)
    {
        Stats.Record(kind, sentAt, err);
        Interlocked.Decrement(ref _outstanding);
    }

    public void OnReplies(int count)
    {
        if (!_stopping && !_exhausted)
        {
            var sent = _session.Send(_source, count);
            Interlocked.Add(ref _outstanding, sent);
            if (sent < count)
            {
                _exhausted = true;
            }
        }

        if (Volatile.Read(ref _outstanding) == 0 && (_stopping || _exhausted))
        {
            _done.TrySetResult();
        }
    }
}
