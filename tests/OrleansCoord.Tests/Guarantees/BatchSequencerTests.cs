using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.QuorumLog;

namespace OrleansCoord.Tests.Guarantees;

/// <summary>
/// A gateway keeps two batches in flight and Orleans may deliver them in either order: the quorum-log grain must
/// validate them in the order sent, or a session's later write could be ordered before its earlier one.
/// </summary>
public sealed class BatchSequencerTests
{
    private static readonly Guid Gateway = Guid.NewGuid();
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static BatchOrigin Batch(long sequence, long firstUnanswered) => new(Gateway, sequence, firstUnanswered);

    /// <summary>The batch's turn comes at once, and it is validated.</summary>
    private static void GoesAtOnce(BatchSequencer sequencer, BatchOrigin batch)
    {
        Assert.True(sequencer.WaitTurnAsync(batch).IsCompletedSuccessfully, $"batch {batch.Sequence} waited");
        sequencer.Passed(batch);
    }

    [Fact]
    public async Task A_batch_that_overtook_the_one_sent_before_it_waits_for_it()
    {
        var sequencer = new BatchSequencer(Bound);
        GoesAtOnce(sequencer, Batch(0, 0));

        var second = sequencer.WaitTurnAsync(Batch(2, 1));
        Assert.False(second.IsCompleted);
        Assert.True(sequencer.WaitTurnAsync(Batch(1, 1)).IsCompletedSuccessfully);
        Assert.False(second.IsCompleted);

        sequencer.Passed(Batch(1, 1));
        await second.WaitAsync(Bound);
    }

    [Fact]
    public async Task A_new_activation_starts_from_the_gateways_oldest_unanswered_batch()
    {
        // Batch 4 was in flight when the old activation died; batch 5 reaches the new one first.
        var sequencer = new BatchSequencer(Bound);
        var later = sequencer.WaitTurnAsync(Batch(5, 4));
        Assert.False(later.IsCompleted);

        GoesAtOnce(sequencer, Batch(4, 4));
        await later.WaitAsync(Bound);
    }

    [Fact]
    public void A_batch_sent_again_after_it_passed_goes_at_once()
    {
        var sequencer = new BatchSequencer(Bound);
        GoesAtOnce(sequencer, Batch(0, 0));
        GoesAtOnce(sequencer, Batch(1, 0));

        GoesAtOnce(sequencer, Batch(0, 0));
    }

    [Fact]
    public async Task A_batch_whose_predecessor_gave_up_goes_when_the_gateway_says_so()
    {
        var sequencer = new BatchSequencer(Bound);
        var waiting = sequencer.WaitTurnAsync(Batch(1, 0));
        Assert.False(waiting.IsCompleted);

        // The gateway stopped resending batch 0 (its clients saw a connection loss) and sends batch 1 again.
        Assert.True(sequencer.WaitTurnAsync(Batch(1, 1)).IsCompletedSuccessfully);
        await waiting.WaitAsync(Bound);
    }

    [Fact]
    public async Task A_batch_whose_predecessor_never_comes_is_refused_so_that_the_gateway_sends_both_again()
    {
        var sequencer = new BatchSequencer(TimeSpan.FromMilliseconds(50));
        var exception = await Assert.ThrowsAsync<TimeoutException>(() => sequencer.WaitTurnAsync(Batch(1, 0)).WaitAsync(Bound));
        Assert.Contains("waited", exception.Message, StringComparison.Ordinal);

        // Sent again in order, both go.
        GoesAtOnce(sequencer, Batch(0, 0));
        GoesAtOnce(sequencer, Batch(1, 0));
    }

    [Fact]
    public void A_gateway_that_went_idle_is_forgotten_and_starts_again_from_its_oldest_unanswered_batch()
    {
        var sequencer = new BatchSequencer(Bound);
        GoesAtOnce(sequencer, Batch(0, 0));
        GoesAtOnce(sequencer, Batch(1, 0));
        Assert.Equal(1, sequencer.SenderCount);

        sequencer.ForgetIdleSince(Environment.TickCount64 + 1);
        Assert.Equal(0, sequencer.SenderCount);

        // Its batches 0 and 1 were answered: batch 2 is its oldest unanswered one.
        GoesAtOnce(sequencer, Batch(2, 2));
        Assert.Equal(1, sequencer.SenderCount);
    }

    [Fact]
    public async Task A_gateway_with_a_batch_waiting_is_not_forgotten()
    {
        var sequencer = new BatchSequencer(Bound);
        GoesAtOnce(sequencer, Batch(0, 0));
        var waiting = sequencer.WaitTurnAsync(Batch(2, 1));

        sequencer.ForgetIdleSince(Environment.TickCount64 + 1);
        Assert.Equal(1, sequencer.SenderCount);

        GoesAtOnce(sequencer, Batch(1, 1));
        await waiting.WaitAsync(Bound);
    }
}
