using System.Buffers.Binary;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Guarantees;

/// <summary>DESIGN.md's guarantees 1-5, 7 and 8, checked with many concurrent sessions on a real silo.</summary>
public sealed class GuaranteeTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    private int Port => fixture.Silo.Port;

    private static string Unique(string prefix) => $"/{prefix}-{Guid.NewGuid().ToString("N")[..12]}";

    private static byte[] Int(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    private static int Int(byte[]? bytes) => bytes is { Length: 4 } ? BinaryPrimitives.ReadInt32BigEndian(bytes) : -1;

    private static async Task<ErrorCode> CreateAsync(ZkWireClient client, string path, byte[]? data = null, CreateMode mode = CreateMode.Persistent)
    {
        var (header, _) = await client.RequestAsync(OpCode.Create, w => new CreateRequest(path, data, [.. Acl.OpenAclUnsafe], (int)mode).Write(w));
        return header.Err;
    }

    private static async Task<GetDataResponse> GetAsync(ZkWireClient client, string path, bool watch = false)
    {
        var (header, body) = await client.RequestAsync(OpCode.GetData, w => new PathWatchRequest(path, watch).Write(w));
        Assert.Equal(ErrorCode.Ok, header.Err);
        return ZkWireClient.Decode(body, GetDataResponse.Read);
    }

    [Fact]
    public async Task Total_order_zxids_of_concurrent_writers_are_unique_and_grow_per_session()
    {
        var root = Unique("order");
        await using var setup = await ZkWireClient.ConnectAsync(Port);
        Assert.Equal(ErrorCode.Ok, await CreateAsync(setup, root));
        await using var writersGroup = await ZkWireClients.ConnectAsync(Port, 8);
        var writers = writersGroup.All;
        var perWriter = await Task.WhenAll(writers.Select(async client =>
        {
            var replies = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
                client.RequestAsync(OpCode.Create2, w => new CreateRequest(root + "/n-", null, [.. Acl.OpenAclUnsafe], (int)CreateMode.PersistentSequential).Write(w))));
            Assert.Null(client.ProtocolViolation);
            return replies.Select(r => (r.Header.Zxid, ZkWireClient.Decode(r.Body, Create2Response.Read))).ToList();
        }));

        var all = perWriter.SelectMany(x => x).ToList();
        Assert.Equal(all.Count, all.Select(x => x.Zxid).Distinct().Count());
        Assert.Equal(all.Count, all.Select(x => x.Item2.Path).Distinct().Count());
        foreach (var writes in perWriter)
        {
            // A session's writes take effect in the order it sent them.
            Assert.Equal(writes.Select(x => x.Zxid).Order(), writes.Select(x => x.Zxid));
        }

        // Sequential suffixes follow the parent's create counter, hence the zxid order.
        var byZxid = all.OrderBy(x => x.Zxid).Select(x => x.Item2.Path).ToList();
        Assert.Equal(byZxid.Order(StringComparer.Ordinal), byZxid);
        Assert.Equal(root + "/n-0000000000", byZxid[0]);
        Assert.Equal(all.Select(x => x.Item2.Stat.Czxid), all.Select(x => x.Zxid));
    }

    [Fact]
    public async Task Readers_never_see_a_pipelined_writers_values_go_backwards()
    {
        var path = Unique("mono");
        await using var writer = await ZkWireClient.ConnectAsync(Port);
        Assert.Equal(ErrorCode.Ok, await CreateAsync(writer, path, Int(0)));
        await using var readersGroup = await ZkWireClients.ConnectAsync(Port, 4);
        var readers = readersGroup.All;
        using var done = new CancellationTokenSource();
        var reading = readers.Select(reader => Task.Run(async () =>
        {
            var last = -1;
            long lastMzxid = 0;
            var reads = 0;
            while (!done.IsCancellationRequested || reads == 0)
            {
                var got = await GetAsync(reader, path);
                var value = Int(got.Data);
                Assert.True(value >= last, $"value went back from {last} to {value}");
                Assert.True(got.Stat.Mzxid >= lastMzxid, "mzxid went back");
                (last, lastMzxid) = (value, got.Stat.Mzxid);
                reads++;
            }

            return last;
        })).ToList();

        var writes = Enumerable.Range(1, 300).Select(i => writer.RequestAsync(OpCode.SetData, w => new SetDataRequest(path, Int(i), -1).Write(w))).ToList();
        var results = await Task.WhenAll(writes);
        Assert.All(results, r => Assert.Equal(ErrorCode.Ok, r.Header.Err));
        await done.CancelAsync();
        await Task.WhenAll(reading);
        Assert.Equal(300, Int((await GetAsync(writer, path)).Data));
    }

    /// <summary>
    /// Guarantee 2 with reads among a session's pipelined writes: a read sees the session's writes sent before it and
    /// none sent after it, and a watch it sets fires for the next write, after the read's reply and before that
    /// write's. Several sessions at once, so their writes share batches.
    /// </summary>
    [Fact]
    public async Task A_pipelined_session_reads_its_earlier_writes_and_none_of_its_later_ones()
    {
        var root = Unique("fifo");
        await using var setup = await ZkWireClient.ConnectAsync(Port);
        Assert.Equal(ErrorCode.Ok, await CreateAsync(setup, root));
        await using var group = await ZkWireClients.ConnectAsync(Port, 6);
        await Task.WhenAll(group.All.Select(async (client, n) =>
        {
            var path = $"{root}/s{n}";
            Assert.Equal(ErrorCode.Ok, await CreateAsync(client, path, Int(0)));
            var sent = new List<(bool Write, int Value, bool Watch, Task<(ReplyHeader Header, byte[] Body)> Reply)>();
            for (var i = 1; i <= 150; i++)
            {
                var value = i;
                sent.Add((true, value, false, client.RequestAsync(OpCode.SetData, w => new SetDataRequest(path, Int(value), -1).Write(w))));
                var watch = i % 10 == 0;
                sent.Add((false, value, watch, client.RequestAsync(OpCode.GetData, w => new PathWatchRequest(path, watch).Write(w))));
            }

            var replies = await Task.WhenAll(sent.Select(r => r.Reply));
            Assert.Null(client.ProtocolViolation);

            // The client's lock sends requests in xid order, so xids tell which writes came before each read.
            var byXid = sent.Zip(replies).OrderBy(r => r.Second.Header.Xid).ToList();
            var written = 0;
            long lastZxid = 0;
            foreach (var ((write, value, _, _), (header, body)) in byXid)
            {
                Assert.Equal(ErrorCode.Ok, header.Err);
                Assert.True(header.Zxid >= lastZxid, $"reply {header.Xid} went back to zxid {header.Zxid:x}");
                lastZxid = header.Zxid;
                if (write)
                {
                    written = value;
                }
                else
                {
                    Assert.Equal(written, Int(ZkWireClient.Decode(body, GetDataResponse.Read).Data));
                }
            }

            lock (client.Arrivals)
            {
                foreach (var (read, next) in byXid.Zip(byXid.Skip(1)).Where(p => p.First.First.Watch))
                {
                    var from = client.Arrivals.IndexOf($"reply:{read.Second.Header.Xid}");
                    var to = client.Arrivals.IndexOf($"reply:{next.Second.Header.Xid}");
                    Assert.True(from >= 0 && to > from);
                    Assert.Equal(1, client.Arrivals.Skip(from).Take(to - from).Count(a => a == $"event:{EventType.NodeDataChanged}:{path}"));
                }
            }
        })).WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Multi_is_atomic_and_reads_reflect_log_prefixes_across_subtrees()
    {
        // Two top-level nodes live in different subtree grains; one multi writes both.
        var p = Unique("atom-p");
        var q = Unique("atom-q");
        await using var writer = await ZkWireClient.ConnectAsync(Port);
        Assert.Equal(ErrorCode.Ok, await CreateAsync(writer, p, Int(0)));
        Assert.Equal(ErrorCode.Ok, await CreateAsync(writer, q, Int(0)));
        await using var reader = await ZkWireClient.ConnectAsync(Port);
        using var done = new CancellationTokenSource();
        var checking = Task.Run(async () =>
        {
            var checks = 0;
            while (!done.IsCancellationRequested || checks == 0)
            {
                // q is read after p, so it must show at least the multi whose p value was seen.
                var seenP = Int((await GetAsync(reader, p)).Data);
                var seenQ = Int((await GetAsync(reader, q)).Data);
                Assert.True(seenQ >= seenP, $"read p={seenP} then q={seenQ}: not a prefix of the log");
                checks++;
            }
        });

        for (var i = 1; i <= 150; i++)
        {
            var value = i;
            var (header, body) = await writer.RequestAsync(OpCode.Multi, w => new MultiRequest(
            [
                new MultiOp(OpCode.SetData, p, Int(value)),
                new MultiOp(OpCode.SetData, q, Int(value)),
            ]).Write(w));
            Assert.Equal(ErrorCode.Ok, header.Err);
        }

        // A failing multi changes nothing at all.
        var (failed, failedBody) = await writer.RequestAsync(OpCode.Multi, w => new MultiRequest(
        [
            new MultiOp(OpCode.SetData, p, Int(-5)),
            new MultiOp(OpCode.Check, q, Version: 12345),
            new MultiOp(OpCode.SetData, q, Int(-5)),
        ]).Write(w));
        Assert.Equal(ErrorCode.Ok, failed.Err);
        var results = ZkWireClient.Decode(failedBody, MultiResponse.Read).Results;
        Assert.Equal([ErrorCode.Ok, ErrorCode.BadVersion, ErrorCode.RuntimeInconsistency], results.Select(r => r.Err));
        Assert.All(results, r => Assert.Equal(OpCode.Error, r.Type));

        await done.CancelAsync();
        await checking;
        Assert.Equal(150, Int((await GetAsync(reader, p)).Data));
        Assert.Equal(150, Int((await GetAsync(reader, q)).Data));
    }

    [Fact]
    public async Task Watch_event_arrives_before_any_reply_showing_the_change()
    {
        var path = Unique("watch");
        await using var writer = await ZkWireClient.ConnectAsync(Port);
        Assert.Equal(ErrorCode.Ok, await CreateAsync(writer, path, Int(0)));
        await using var watchersGroup = await ZkWireClients.ConnectAsync(Port, 6);
        var watchers = watchersGroup.All;
        foreach (var w in watchers)
        {
            await GetAsync(w, path, watch: true);
        }

        var polling = watchers.Select(w => Task.Run(async () =>
        {
            while (true)
            {
                var (header, body) = await w.RequestAsync(OpCode.GetData, r => new PathWatchRequest(path, false).Write(r));
                if (Int(ZkWireClient.Decode(body, GetDataResponse.Read).Data) == 1)
                {
                    lock (w.Arrivals)
                    {
                        var eventAt = w.Arrivals.IndexOf($"event:{EventType.NodeDataChanged}:{path}");
                        var replyAt = w.Arrivals.LastIndexOf($"reply:{header.Xid}");
                        Assert.True(eventAt >= 0 && eventAt < replyAt, $"event at {eventAt}, reply showing the change at {replyAt}");
                    }

                    return;
                }
            }
        })).ToList();

        var (set, _) = await writer.RequestAsync(OpCode.SetData, w => new SetDataRequest(path, Int(1), -1).Write(w));
        Assert.Equal(ErrorCode.Ok, set.Err);
        await Task.WhenAll(polling).WaitAsync(TimeSpan.FromSeconds(30));

        // One-shot: a second change fires nothing more.
        await writer.RequestAsync(OpCode.SetData, w => new SetDataRequest(path, Int(2), -1).Write(w));
        foreach (var w in watchers)
        {
            await GetAsync(w, path);
            Assert.Equal(1, w.Events.Reader.Count);
        }
    }

    [Fact]
    public async Task Events_of_one_session_arrive_in_zxid_order()
    {
        var root = Unique("events");
        await using var writer = await ZkWireClient.ConnectAsync(Port);
        await using var watcher = await ZkWireClient.ConnectAsync(Port);
        Assert.Equal(ErrorCode.Ok, await CreateAsync(writer, root));
        var paths = Enumerable.Range(0, 20).Select(i => $"{root}/c{i}").ToList();
        foreach (var path in paths)
        {
            await watcher.RequestAsync(OpCode.Exists, w => new PathWatchRequest(path, true).Write(w));
        }

        await Task.WhenAll(paths.Select(path => CreateAsync(writer, path)));
        var seen = new List<long>();
        for (var i = 0; i < paths.Count; i++)
        {
            var (e, _) = await watcher.Events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(EventType.NodeCreated, e.Type);
            var (_, body) = await writer.RequestAsync(OpCode.Exists, w => new PathWatchRequest(e.Path, false).Write(w));
            seen.Add(ZkWireClient.Decode(body, Stat.Read).Czxid);
        }

        Assert.Equal(seen.Order(), seen);
    }

    [Fact]
    public async Task Sync_then_read_sees_another_sessions_committed_write()
    {
        var path = Unique("sync");
        await using var writer = await ZkWireClient.ConnectAsync(Port);
        await using var reader = await ZkWireClient.ConnectAsync(Port);
        for (var i = 0; i < 20; i++)
        {
            var target = $"{path}-{i}";
            Assert.Equal(ErrorCode.Ok, await CreateAsync(writer, target, Int(i)));
            var (sync, body) = await reader.RequestAsync(OpCode.Sync, w => new PathRequest(target).Write(w));
            Assert.Equal(ErrorCode.Ok, sync.Err);
            Assert.Equal(target, ZkWireClient.Decode(body, PathRequest.Read).Path);
            Assert.Equal(i, Int((await GetAsync(reader, target)).Data));
        }
    }

    [Fact]
    public async Task Ephemerals_vanish_when_their_session_expires()
    {
        var path = Unique("expire");
        await using var observer = await ZkWireClient.ConnectAsync(Port);
        var owner = await ZkWireClient.ConnectAsync(Port, timeoutMs: 1000);
        Assert.Equal(ErrorCode.Ok, await CreateAsync(owner, path, null, CreateMode.Ephemeral));
        var (_, statBody) = await observer.RequestAsync(OpCode.Exists, w => new PathWatchRequest(path, true).Write(w));
        Assert.Equal(owner.Session!.SessionId, ZkWireClient.Decode(statBody, Stat.Read).EphemeralOwner);

        // Drop the socket without closeSession: only expiry can remove the node.
        await owner.DisposeAsync();
        var (e, _) = await observer.Events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(EventType.NodeDeleted, e.Type);

        // The expired session can no longer be resumed.
        await using var late = await ZkWireClient.OpenAsync(Port);
        await late.SendFrameAsync(w => new ConnectRequest(0, 0, 1000, owner.Session.SessionId, owner.Session.Passwd, false, true).Write(w));
        Assert.Equal(0, (await late.ReadConnectResponseAsync())!.TimeOut);
    }

    [Fact]
    public async Task A_silent_session_expires_and_its_open_connection_is_closed()
    {
        // No pings: the session must expire although its socket stays open, and the server closes it.
        await using var silent = await ZkWireClient.ConnectAsync(Port, timeoutMs: 1000);
        await silent.Closed.WaitAsync(TimeSpan.FromSeconds(20));
        await using var late = await ZkWireClient.OpenAsync(Port);
        await late.SendFrameAsync(w => new ConnectRequest(0, 0, 1000, silent.Session!.SessionId, silent.Session.Passwd, false, true).Write(w));
        Assert.Equal(0, (await late.ReadConnectResponseAsync())!.TimeOut);
    }

    [Fact]
    public async Task Session_moved_to_a_new_connection_keeps_its_ephemerals_and_sees_no_older_state()
    {
        var path = Unique("move");
        var first = await ZkWireClient.ConnectAsync(Port, timeoutMs: 4000);
        Assert.Equal(ErrorCode.Ok, await CreateAsync(first, path, Int(7), CreateMode.Ephemeral));
        var (seen, _) = await first.RequestAsync(OpCode.Exists, w => new PathWatchRequest(path, false).Write(w));
        var session = first.Session!;
        await first.DisposeAsync();

        await using var second = await ZkWireClient.ConnectAsync(Port, 4000, session.SessionId, session.Passwd, seen.Zxid);
        var got = await GetAsync(second, path);
        Assert.Equal(session.SessionId, got.Stat.EphemeralOwner);
        var (again, _) = await second.RequestAsync(OpCode.Exists, w => new PathWatchRequest(path, false).Write(w));
        Assert.True(again.Zxid >= seen.Zxid);
    }
}
