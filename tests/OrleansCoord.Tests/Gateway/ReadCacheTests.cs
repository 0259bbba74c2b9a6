using OrleansCoord.Gateway.Dispatch;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Gateway;

/// <summary>The gateway's read cache: a kept reply never shows a node as it was before a change the session could know of.</summary>
public sealed class ReadCacheTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    private int Port => fixture.Silo.Port;

    private static string Unique(string prefix) => $"/{prefix}-{Guid.NewGuid().ToString("N")[..12]}";

    private static ReadResult Reply(long zxid, Guid incarnation, bool cacheable = true) => new(zxid, ErrorCode.Ok, [1], incarnation, cacheable);

    [Fact]
    public void A_reply_fetched_across_a_change_of_its_node_is_not_kept()
    {
        var cache = new ReadCache(10, 1 << 20);
        var incarnation = Guid.NewGuid();
        Assert.False(cache.TryGet("/a", OpCode.GetData, out _, out var fill));
        cache.Invalidate("/a");
        cache.Keep("/a", fill!, OpCode.GetData, Reply(5, incarnation));
        Assert.False(cache.TryGet("/a", OpCode.GetData, out _, out fill));

        cache.Keep("/a", fill!, OpCode.GetData, Reply(6, incarnation));
        Assert.True(cache.TryGet("/a", OpCode.GetData, out var kept, out _));
        Assert.Equal(6, kept.Zxid);
        Assert.False(cache.TryGet("/a", OpCode.Exists, out _, out _));
        Assert.Equal(1, cache.Hits);
    }

    [Fact]
    public void Replies_the_grain_did_not_watch_leave_nothing_behind_and_a_full_cache_keeps_nothing_new()
    {
        var cache = new ReadCache(1, 1 << 20);
        Assert.False(cache.TryGet("/a", OpCode.GetData, out _, out var fill));
        cache.Keep("/a", fill!, OpCode.GetData, Reply(5, Guid.NewGuid(), cacheable: false));
        Assert.Equal(0, cache.Count);

        Assert.False(cache.TryGet("/a", OpCode.GetData, out _, out fill));
        cache.Keep("/a", fill!, OpCode.GetData, Reply(5, Guid.NewGuid()));
        Assert.False(cache.TryGet("/b", OpCode.GetData, out _, out var none));
        Assert.Null(none);

        // Another incarnation of the grain answering means the first one's watch is gone: the node goes.
        Assert.False(cache.TryGet("/a", OpCode.Exists, out _, out fill));
        cache.Keep("/a", fill!, OpCode.Exists, Reply(7, Guid.NewGuid()));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Replies_past_the_byte_budget_are_not_kept_and_dropped_nodes_give_their_bytes_back()
    {
        var cache = new ReadCache(10, 100);
        var incarnation = Guid.NewGuid();
        ReadResult Sized(int bytes) => new(5, ErrorCode.Ok, new byte[bytes], incarnation, true);
        Assert.False(cache.TryGet("/a", OpCode.GetData, out _, out var fill));
        cache.Keep("/a", fill!, OpCode.GetData, Sized(80));
        Assert.False(cache.TryGet("/b", OpCode.GetData, out _, out fill));
        cache.Keep("/b", fill!, OpCode.GetData, Sized(30));
        Assert.Equal((1, 80L), (cache.Count, cache.Bytes));

        cache.Invalidate("/a");
        Assert.Equal(0, cache.Bytes);
        Assert.False(cache.TryGet("/b", OpCode.GetData, out _, out fill));
        cache.Keep("/b", fill!, OpCode.GetData, Sized(30));
        Assert.True(cache.TryGet("/b", OpCode.GetData, out _, out _));
        Assert.Equal(30, cache.Bytes);

        // With the budget spent, a new node is not even asked for: its grain would watch it for nothing.
        Assert.False(cache.TryGet("/c", OpCode.GetData, out _, out fill));
        cache.Keep("/c", fill!, OpCode.GetData, Sized(70));
        Assert.Equal(100, cache.Bytes);
        Assert.False(cache.TryGet("/d", OpCode.GetData, out _, out var none));
        Assert.Null(none);
    }

    [Fact]
    public void A_subtree_whose_grain_came_back_anew_is_dropped_with_everything_under_it()
    {
        var cache = new ReadCache(10, 1 << 20);
        var incarnation = Guid.NewGuid();
        foreach (var path in new[] { "/app", "/app/config", "/other" })
        {
            Assert.False(cache.TryGet(path, OpCode.GetData, out _, out var fill));
            cache.Keep(path, fill!, OpCode.GetData, Reply(5, incarnation));
        }

        cache.Invalidate([new SubtreeIncarnation(SubtreePartitioner.KeyFor("/app/config"), Guid.NewGuid())]);
        Assert.False(cache.TryGet("/app", OpCode.GetData, out _, out _));
        Assert.False(cache.TryGet("/app/config", OpCode.GetData, out _, out _));
        Assert.True(cache.TryGet("/other", OpCode.GetData, out _, out _));
    }

    [Fact]
    public async Task Every_kind_of_change_to_a_read_node_shows_in_the_next_read_of_another_session()
    {
        var path = Unique("cached");
        await using var reader = await ZkWireClient.ConnectAsync(Port);
        await using var writer = await ZkWireClient.ConnectAsync(Port);

        // Each read twice, so the second one is answered from what the first kept.
        async Task<(ErrorCode Err, byte[] Body)> ReadAsync(OpCode type)
        {
            await reader.RequestAsync(type, w => new PathWatchRequest(path, false).Write(w));
            var (header, body) = await reader.RequestAsync(type, w => new PathWatchRequest(path, false).Write(w));
            return (header.Err, body);
        }

        async Task<Stat> StatAsync()
        {
            var (err, body) = await ReadAsync(OpCode.Exists);
            Assert.Equal(ErrorCode.Ok, err);
            return ZkWireClient.Decode(body, StatResponse.Read).Stat;
        }

        async Task<GetDataResponse> DataAsync()
        {
            var (err, body) = await ReadAsync(OpCode.GetData);
            Assert.Equal(ErrorCode.Ok, err);
            return ZkWireClient.Decode(body, GetDataResponse.Read);
        }

        async Task<List<string>> ChildrenAsync()
        {
            var (err, body) = await ReadAsync(OpCode.GetChildren2);
            Assert.Equal(ErrorCode.Ok, err);
            return ZkWireClient.Decode(body, GetChildren2Response.Read).Children;
        }

        async Task WriteAsync(OpCode type, Action<JuteWriter> body) =>
            Assert.Equal(ErrorCode.Ok, (await writer.RequestAsync(type, body)).Header.Err);

        Assert.Equal(ErrorCode.NoNode, (await ReadAsync(OpCode.Exists)).Err);
        Assert.Equal(ErrorCode.NoNode, (await ReadAsync(OpCode.GetData)).Err);
        Assert.Equal(ErrorCode.Ok, (await writer.CreateAsync(path, [1])).Header.Err);
        Assert.Equal([1], (await DataAsync()).Data);
        Assert.Empty(await ChildrenAsync());

        await WriteAsync(OpCode.SetData, w => new SetDataRequest(path, [2], -1).Write(w));
        var data = await DataAsync();
        Assert.Equal([2], data.Data);
        Assert.Equal(1, data.Stat.Version);

        Assert.Equal(ErrorCode.Ok, (await writer.CreateAsync(path + "/child", [])).Header.Err);
        Assert.Equal(["child"], await ChildrenAsync());
        Assert.Equal((1, 1), ((await StatAsync()).NumChildren, (await DataAsync()).Stat.Cversion));

        await WriteAsync(OpCode.Delete, w => new DeleteRequest(path + "/child", -1).Write(w));
        Assert.Empty(await ChildrenAsync());
        Assert.Equal(0, (await DataAsync()).Stat.NumChildren);

        // An ACL that lets no one read: exists still answers (it checks no ACL), getData refuses.
        await WriteAsync(OpCode.SetAcl, w => new SetAclRequest(path, [new Acl(Perms.All & ~Perms.Read, Id.Anyone)], -1).Write(w));
        Assert.Equal(1, (await StatAsync()).Aversion);
        Assert.Equal(ErrorCode.NoAuth, (await ReadAsync(OpCode.GetData)).Err);
        await WriteAsync(OpCode.SetAcl, w => new SetAclRequest(path, [.. Acl.OpenAclUnsafe], -1).Write(w));
        Assert.Equal(2, (await DataAsync()).Stat.Aversion);

        await WriteAsync(OpCode.Delete, w => new DeleteRequest(path, -1).Write(w));
        Assert.Equal(ErrorCode.NoNode, (await ReadAsync(OpCode.Exists)).Err);
        Assert.Equal(ErrorCode.NoNode, (await ReadAsync(OpCode.GetChildren)).Err);
    }

    [Fact]
    public async Task Sessions_reading_while_a_node_changes_never_go_back_and_end_at_the_last_change()
    {
        const int Changes = 200;
        var path = Unique("racing");
        await using var writer = await ZkWireClient.ConnectAsync(Port);
        Assert.Equal(ErrorCode.Ok, (await writer.CreateAsync(path, [])).Header.Err);
        await using var readers = await ZkWireClients.ConnectAsync(Port, 4);

        using var done = new CancellationTokenSource();
        var reading = readers.All.Select(reader => Task.Run(async () =>
        {
            var last = -1;
            var reads = 0;
            while (!done.IsCancellationRequested || reads == 0)
            {
                var type = reads++ % 2 == 0 ? OpCode.GetData : OpCode.Exists;
                var (header, body) = await reader.RequestAsync(type, w => new PathWatchRequest(path, false).Write(w));
                Assert.Equal(ErrorCode.Ok, header.Err);
                var version = type == OpCode.GetData ? ZkWireClient.Decode(body, GetDataResponse.Read).Stat.Version : ZkWireClient.Decode(body, StatResponse.Read).Stat.Version;
                Assert.True(version >= last, $"read version {version} after {last}");
                last = version;
            }

            Assert.Equal(ErrorCode.Ok, (await reader.RequestAsync(OpCode.Sync, w => new PathRequest(path).Write(w))).Header.Err);
            var (final, finalBody) = await reader.RequestAsync(OpCode.GetData, w => new PathWatchRequest(path, false).Write(w));
            Assert.Equal(ErrorCode.Ok, final.Err);
            return ZkWireClient.Decode(finalBody, GetDataResponse.Read).Stat.Version;
        })).ToArray();

        for (var i = 0; i < Changes; i++)
        {
            Assert.Equal(ErrorCode.Ok, (await writer.RequestAsync(OpCode.SetData, w => new SetDataRequest(path, [(byte)i], -1).Write(w))).Header.Err);
        }

        await done.CancelAsync();
        Assert.All(await Task.WhenAll(reading).WaitAsync(TimeSpan.FromSeconds(60)), version => Assert.Equal(Changes, version));
    }
}
