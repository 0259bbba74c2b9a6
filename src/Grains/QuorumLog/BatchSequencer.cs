using OrleansCoord.Grains.Abstractions;

namespace OrleansCoord.Grains.QuorumLog;

/// <summary>
/// Lets each gateway's batches be validated in the order the gateway sent them, whatever order they arrive in, so
/// that a session's writes spread over several batches in flight keep their order. Runs on the grain's scheduler.
/// </summary>
public sealed class BatchSequencer(TimeSpan maxWait)
{
    private readonly Dictionary<Guid, Sender> _senders = [];

    private sealed class Sender(long next)
    {
        public long Next { get; set; } = next;

        public Dictionary<long, TaskCompletionSource> Waiting { get; } = [];

        /// <summary>When the sender's last batch came (Environment.TickCount64).</summary>
        public long SeenAt { get; set; }
    }

    /// <summary>The gateways this activation keeps an order for.</summary>
    public int SenderCount => _senders.Count;

    /// <summary>
    /// Completes when the batches the sender sent before this one have been validated; a batch older than that is
    /// a resend and goes at once (its writes are answered from their kept replies). Throws
    /// <see cref="TimeoutException"/> when an earlier batch has not come within the wait, so the gateway sends again.
    /// </summary>
    public Task WaitTurnAsync(BatchOrigin origin)
    {
        if (!_senders.TryGetValue(origin.Batcher, out var sender))
        {
            // A new activation: the gateway's unanswered batches may have committed in the one before, or not.
            sender = new Sender(origin.FirstUnanswered);
            _senders[origin.Batcher] = sender;
        }

        sender.SeenAt = Environment.TickCount64;

        // Batches the gateway has answers for are behind it whatever this activation saw of them.
        Advance(sender, origin.FirstUnanswered);
        if (origin.Sequence <= sender.Next)
        {
            return Task.CompletedTask;
        }

        if (!sender.Waiting.TryGetValue(origin.Sequence, out var turn))
        {
            turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            sender.Waiting[origin.Sequence] = turn;
        }

        return WaitAsync(sender, origin.Sequence, turn);
    }

    private async Task WaitAsync(Sender sender, long sequence, TaskCompletionSource turn)
    {
        try
        {
            await turn.Task.WaitAsync(maxWait);
        }
        catch (TimeoutException)
        {
            sender.Waiting.Remove(sequence);
            throw new TimeoutException($"batch {sequence} waited {maxWait.TotalSeconds:0.#} s for batch {sender.Next} of its gateway");
        }
    }

    /// <summary>The batch has been validated (or refused): the sender's next one may go.</summary>
    public void Passed(BatchOrigin origin)
    {
        if (_senders.TryGetValue(origin.Batcher, out var sender))
        {
            Advance(sender, origin.Sequence + 1);
        }
    }

    /// <summary>
    /// Forgets the gateways whose last batch came before <paramref name="tick"/> and that have none waiting, as gateways
    /// come and go with their silos. A forgotten gateway that sends again starts from its oldest unanswered batch, as
    /// it would with a new activation.
    /// </summary>
    public void ForgetIdleSince(long tick)
    {
        foreach (var (batcher, sender) in _senders)
        {
            if (sender.SeenAt < tick && sender.Waiting.Count == 0)
            {
                _senders.Remove(batcher);
            }
        }
    }

    private static void Advance(Sender sender, long next)
    {
        if (next <= sender.Next)
        {
            return;
        }

        sender.Next = next;
        if (sender.Waiting.Count == 0)
        {
            return;
        }

        foreach (var sequence in sender.Waiting.Keys.Where(s => s <= next).ToList())
        {
            sender.Waiting.Remove(sequence, out var turn);
            turn!.TrySetResult();
        }
    }
}
