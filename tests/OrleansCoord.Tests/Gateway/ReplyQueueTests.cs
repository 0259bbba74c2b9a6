using OrleansCoord.Gateway.Session;

namespace OrleansCoord.Tests.Gateway;

/// <summary>A connection's reply queue: items in the order added, from many threads, to one reader that waits for them.</summary>
public sealed class ReplyQueueTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_waiting_reader_wakes_for_each_item_and_takes_them_in_order()
    {
        var queue = new ReplyQueue<int>();
        for (var i = 0; i < 3; i++)
        {
            var wait = queue.WaitToTakeAsync().AsTask();
            Assert.False(wait.IsCompleted);
            Assert.True(queue.TryAdd(i));
            Assert.True(await wait.WaitAsync(Bound));
            Assert.True(queue.TryTake(out var item));
            Assert.Equal(i, item);
            Assert.False(queue.TryTake(out _));
        }
    }

    [Fact]
    public async Task Items_from_many_threads_all_arrive_each_thread_in_its_order()
    {
        const int Writers = 4, PerWriter = 20_000;
        var queue = new ReplyQueue<(int Writer, int N)>();
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            for (var n = 0; n < PerWriter; n++)
            {
                queue.TryAdd((w, n));
            }
        })).ToArray();
        _ = Task.WhenAll(writers).ContinueWith(_ => queue.Complete(), TaskScheduler.Default);

        var next = new int[Writers];
        while (await queue.WaitToTakeAsync().AsTask().WaitAsync(Bound))
        {
            while (queue.TryTake(out var item))
            {
                Assert.Equal(next[item.Writer]++, item.N);
            }
        }

        Assert.All(next, n => Assert.Equal(PerWriter, n));
    }

    [Fact]
    public async Task A_completed_queue_gives_what_it_holds_then_ends_and_refuses_more()
    {
        var queue = new ReplyQueue<int>();
        queue.TryAdd(1);
        queue.Complete();
        Assert.False(queue.TryAdd(2));
        Assert.True(await queue.WaitToTakeAsync());
        Assert.True(queue.TryTake(out var item));
        Assert.Equal(1, item);
        Assert.False(await queue.WaitToTakeAsync());

        var waiting = new ReplyQueue<int>();
        var wait = waiting.WaitToTakeAsync().AsTask();
        waiting.Complete();
        Assert.False(await wait.WaitAsync(Bound));
    }

    [Fact]
    public async Task Cancel_ends_a_wait_in_progress_and_every_later_one()
    {
        var queue = new ReplyQueue<int>();
        var wait = queue.WaitToTakeAsync().AsTask();
        queue.Cancel();
        await Assert.ThrowsAsync<OperationCanceledException>(() => wait.WaitAsync(Bound));
        queue.TryAdd(1);
        await Assert.ThrowsAsync<OperationCanceledException>(() => queue.WaitToTakeAsync().AsTask());
    }
}
