using OrleansCoord.Gateway.Session;
using OrleansCoord.Grains.Abstractions;

namespace OrleansCoord.Gateway.Dispatch;

/// <summary>
/// Gathers the writes of all sessions on this gateway into one quorum-log call at a time. Keeping a single
/// batch in flight keeps each session's writes in the order they were sent, and sizes batches by load.
/// </summary>
public sealed class WriteBatcher(Func<IQuorumLogGrain> quorumLog, Watermark watermark)
{
    // Resends come often, so writes resume soon after a new leader is up, for as long as failure detection
    // may take (SiloFailures' 10 s).
    private static readonly TimeSpan ResendDelay = TimeSpan.FromMilliseconds(50);
    private static readonly int ResendAttempts = (int)(SiloFailures.Attempts * SiloFailures.RetryDelay / ResendDelay);

    private readonly Lock _lock = new();
    private List<(WriteRequest Request, TaskCompletionSource<WriteResult> Result)> _pending = [];
    private bool _inFlight;

    public int Outstanding { get; private set; }

    public Task<WriteResult> Enqueue(WriteRequest request)
    {
        var result = new TaskCompletionSource<WriteResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _pending.Add((request, result));
            Outstanding++;
            if (_inFlight)
            {
                return result.Task;
            }

            _inFlight = true;
        }

        _ = Task.Run(SendLoopAsync);
        return result.Task;
    }

    private async Task SendLoopAsync()
    {
        while (true)
        {
            List<(WriteRequest Request, TaskCompletionSource<WriteResult> Result)> batch;
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _inFlight = false;
                    return;
                }

                batch = _pending;
                _pending = [];
            }

            try
            {
                var requests = new WriteRequest[batch.Count];
                for (var i = 0; i < batch.Count; i++)
                {
                    requests[i] = batch[i].Request;
                }

                var results = await SubmitAsync(requests);
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
            }
        }
    }

    /// <summary>
    /// Sends a batch until a silo orders it. When the silo ordering writes dies with the batch in flight, the
    /// batch may have committed there or not; the same batch goes to the grain's next activation, which answers
    /// the writes it finds in the log with the replies kept there and orders the others.
    /// </summary>
    private async Task<WriteResult[]> SubmitAsync(WriteRequest[] requests)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await quorumLog().Submit(requests);
            }
            catch (Exception ex) when (attempt < ResendAttempts && SiloFailures.IsTransient(ex))
            {
                await Task.Delay(ResendDelay);
            }
        }
    }
}
