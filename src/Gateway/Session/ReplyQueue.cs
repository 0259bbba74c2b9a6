using System.Threading.Tasks.Sources;

namespace OrleansCoord.Gateway.Session;

/// <summary>
/// A connection's queue of reply slots: any thread adds, one output loop takes. A gateway keeps one per connection and
/// each holds a few items at a time, so it starts at four slots (an unbounded channel starts at 32, about 2 KB of an
/// idle connection's 8.5), and its reader waits without allocating. The reader takes from a queue of its own and swaps
/// it for the writers' when it runs dry, so it takes the lock once per run of items, not once per item.
/// </summary>
public sealed class ReplyQueue<T> : IValueTaskSource<bool>
{
    private readonly Lock _lock = new();
    private Queue<T> _adding = new(4);
    private Queue<T> _taking = new(4);
    private ManualResetValueTaskSourceCore<bool> _reader = new() { RunContinuationsAsynchronously = true };
    private bool _readerWaiting;
    private bool _completed;
    private bool _canceled;

    /// <summary>Adds an item; false once the queue is completed, as a completed channel refuses writes.</summary>
    public bool TryAdd(T item)
    {
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            _adding.Enqueue(item);
            if (!TakeWaitingReader())
            {
                return true;
            }
        }

        _reader.SetResult(true);
        return true;
    }

    /// <summary>No more items: the reader takes those queued, then its wait returns false.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            if (!TakeWaitingReader())
            {
                return;
            }
        }

        _reader.SetResult(false);
    }

    /// <summary>Ends the reader's wait, now or the next time it waits, with an <see cref="OperationCanceledException"/>.</summary>
    public void Cancel()
    {
        lock (_lock)
        {
            _canceled = true;
            if (!TakeWaitingReader())
            {
                return;
            }
        }

        _reader.SetException(new OperationCanceledException());
    }

    /// <summary>Takes the next item. The reader only.</summary>
    public bool TryTake(out T item)
    {
        if (_taking.TryDequeue(out item!))
        {
            return true;
        }

        lock (_lock)
        {
            if (_adding.Count == 0)
            {
                return false;
            }

            (_adding, _taking) = (_taking, _adding);
        }

        return _taking.TryDequeue(out item!);
    }

    /// <summary>True when an item can be taken, false when the queue is completed and empty. One reader only.</summary>
    public ValueTask<bool> WaitToTakeAsync()
    {
        if (_taking.Count > 0 && !Volatile.Read(ref _canceled))
        {
            return new ValueTask<bool>(true);
        }

        lock (_lock)
        {
            if (_canceled)
            {
                return ValueTask.FromException<bool>(new OperationCanceledException());
            }

            if (_adding.Count > 0 || _completed)
            {
                return new ValueTask<bool>(_adding.Count > 0);
            }

            // The reader has taken the last wait's result, so no writer can be completing it now.
            _reader.Reset();
            _readerWaiting = true;
            return new ValueTask<bool>(this, _reader.Version);
        }
    }

    // Under the lock: whether the reader waits, in which case the caller completes its wait once out of the lock.
    private bool TakeWaitingReader()
    {
        var waiting = _readerWaiting;
        _readerWaiting = false;
        return waiting;
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _reader.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _reader.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _reader.OnCompleted(continuation, state, token, flags);
}
