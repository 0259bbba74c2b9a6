using Orleans.Concurrency;
using OrleansCoord.Gateway.Session;
using OrleansCoord.Grains.Abstractions;

namespace OrleansCoord.Gateway.Dispatch;

/// <summary>
/// Gathers the writes of all sessions on this gateway into quorum-log calls, sized by load. Several batches are in
/// flight at a time, so the quorum-log grain validates some while it makes others durable; their sequence numbers
/// keep each session's writes in the order they were sent.
/// </summary>
public sealed class WriteBatcher(Func<IQuorumLogGrain> quorumLog, Watermark watermark)
{
    // Resends come often, so writes resume soon after a new leader is up, for as long as failure detection
    // may take (SiloFailures' 10 s).
    private static readonly TimeSpan ResendDelay = TimeSpan.FromMilliseconds(50);
    private static readonly int ResendAttempts = (int)(SiloFailures.Attempts * SiloFailures.RetryDelay / ResendDelay);

    private readonly Guid _id = Guid.NewGuid();
    private readonly Lock _lock = new();
    private List<(WriteRequest Request, TaskCompletionSource<WriteResult> Result)> _pending = [];
    private readonly SortedSet<long> _unanswered = [];
    private long _nextSequence;

    public int Outstanding { get; private set; }

    public Task<WriteResult> Enqueue(WriteRequest request)
    {
        var result = new TaskCompletionSource<WriteResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        List<(WriteRequest Request, TaskCompletionSource<WriteResult> Result)>? batch;
        long sequence;
        lock (_lock)
        {
            _pending.Add((request, result));
            Outstanding++;
            if (!TryTakeBatch(out batch, out sequence))
            {
                return result.Task;
            }
        }

        StartSending(batch, sequence);
        return result.Task;
    }

    // Apart from Enqueue, whose every call would otherwise allocate the lambda's closure, sent or not.
    private void StartSending(List<(WriteRequest Request, TaskCompletionSource<WriteResult> Result)> batch, long sequence) =>
        _ = Task.Run(() => SendLoopAsync(batch, sequence));

    /// <summary>Takes the pending writes as the next batch, unless the window is full (a batch older than it is unanswered).</summary>
    private bool TryTakeBatch(
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out List<(WriteRequest Request, TaskCompletionSource<WriteResult> Result)>? batch,
        out long sequence)
    {
        batch = null;
        sequence = _nextSequence;
        if (_pending.Count == 0 || (_unanswered.Count > 0 && _nextSequence - _unanswered.Min >= BatchOrigin.Window))
        {
            return false;
        }

        batch = _pending;
        _pending = [];
        _unanswered.Add(_nextSequence++);
        return true;
    }

    private async Task SendLoopAsync(List<(WriteRequest Request, TaskCompletionSource<WriteResult> Result)> batch, long sequence)
    {
        while (true)
        {
            try
            {
                var requests = new WriteRequest[batch.Count];
                for (var i = 0; i < batch.Count; i++)
                {
                    requests[i] = batch[i].Request;
                }

                var results = await SubmitAsync(requests, sequence);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Result.TrySetResult(results[i]);
                }
            }
            catch (Exception ex) when (SiloFailures.IsTransient(ex))
            {
                // No silo took over in time: the batch may or may not have committed. ZooKeeper says so with a
                // connection loss, after which clients reconnect and their retry policies decide.
                foreach (var (_, result) in batch)
                {
                    result.TrySetException(new WriteOutcomeUnknownException(ex));
                }
            }
            catch (Exception)
            {
                // The ordering service refused the batch (storage unreachable): clients see a system error, not a hang.
                foreach (var (_, result) in batch)
                {
                    result.TrySetResult(new WriteResult(watermark.Value, ErrorCode.SystemError, null));
                }
            }

            lock (_lock)
            {
                Outstanding -= batch.Count;
                _unanswered.Remove(sequence);
                if (!TryTakeBatch(out batch!, out sequence))
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Sends a batch until a silo orders it. When the silo ordering writes dies with the batch in flight, the
    /// batch may have committed there or not; the same batch goes to the grain's next activation, which answers
    /// the writes it finds in the log with the replies kept there and orders the others.
    /// </summary>
    private async Task<WriteResult[]> SubmitAsync(WriteRequest[] requests, long sequence)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                long firstUnanswered;
                lock (_lock)
                {
                    firstUnanswered = _unanswered.Min;
                }

                return (await quorumLog().Submit(requests.AsImmutable(), new BatchOrigin(_id, sequence, firstUnanswered))).Value;
            }
            catch (Exception ex) when (attempt < ResendAttempts && SiloFailures.IsTransient(ex))
            {
                await Task.Delay(ResendDelay);
            }
        }
    }
}
