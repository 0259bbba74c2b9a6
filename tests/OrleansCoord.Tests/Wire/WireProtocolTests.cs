using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Wire;

/// <summary>The client port at the byte level: handshake rules, bad input, and reply ordering.</summary>
public sealed class WireProtocolTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    private int Port => fixture.Silo.Port;

    private static string Unique() => "/wire-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Unknown_opcode_gets_unimplemented_and_the_connection_stays_open()
    {
        await using var client = await ZkWireClient.ConnectAsync(Port);
        var (header, _) = await client.RequestAsync((OpCode)999);
        Assert.Equal(ErrorCode.Unimplemented, header.Err);

        // check (13) outside multi is answered as ZooKeeper does.
        var (check, _) = await client.RequestAsync(OpCode.Check, w => new CheckVersionRequest("/", -1).Write(w));
        Assert.Equal(ErrorCode.Unimplemented, check.Err);

        var (exists, body) = await client.RequestAsync(OpCode.Exists, w => new PathWatchRequest("/zookeeper", false).Write(w));
        Assert.Equal(ErrorCode.Ok, exists.Err);
        Assert.Equal(Stat.EncodedLength, body.Length);
        Assert.Null(client.ProtocolViolation);
    }

    [Fact]
    public async Task Oversized_frame_closes_only_that_connection()
    {
        await using var bystander = await ZkWireClient.ConnectAsync(Port);
        await using var offender = await ZkWireClient.ConnectAsync(Port);
        await offender.SendRawAsync([0x00, 0x10, 0x00, 0x00, 1, 2, 3]);
        await offender.Closed.WaitAsync(TimeSpan.FromSeconds(10));

        var (header, _) = await bystander.RequestAsync(OpCode.Exists, w => new PathWatchRequest("/", false).Write(w));
        Assert.Equal(ErrorCode.Ok, header.Err);
    }

    [Fact]
    public async Task Negative_frame_length_and_garbage_handshake_close_the_connection()
    {
        await using var negative = await ZkWireClient.OpenAsync(Port);
        await negative.SendRawAsync([0xff, 0xff, 0xff, 0xf0]);
        Assert.Null(await negative.ReadConnectResponseAsync().WaitAsync(TimeSpan.FromSeconds(10)));

        await using var garbage = await ZkWireClient.OpenAsync(Port);
        await garbage.SendRawAsync([0, 0, 0, 3, 1, 2, 3]);
        Assert.Null(await garbage.ReadConnectResponseAsync().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Malformed_request_body_gets_an_error_reply()
    {
        await using var client = await ZkWireClient.ConnectAsync(Port);
        var (header, _) = await client.RequestAsync(OpCode.GetData, w => w.WriteInt(1000));
        Assert.Equal(ErrorCode.MarshallingError, header.Err);
        var (ping, _) = await client.RequestAsync(OpCode.Ping, xid: Xids.Ping);
        Assert.Equal(ErrorCode.Ok, ping.Err);
    }

    [Fact]
    public async Task Client_ahead_of_the_server_is_refused()
    {
        await using var client = await ZkWireClient.OpenAsync(Port);
        await client.SendFrameAsync(w => new ConnectRequest(0, long.MaxValue - 1, 10000, 0, new byte[16], false, true).Write(w));
        Assert.Null(await client.ReadConnectResponseAsync().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Unknown_session_or_wrong_password_gets_an_expired_handshake()
    {
        await using var first = await ZkWireClient.ConnectAsync(Port);
        var session = first.Session!;

        await using var wrong = await ZkWireClient.OpenAsync(Port);
        await wrong.SendFrameAsync(w => new ConnectRequest(0, 0, 10000, session.SessionId, new byte[16], false, true).Write(w));
        var refused = await wrong.ReadConnectResponseAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(refused);
        Assert.Equal(0, refused.TimeOut);
        Assert.Equal(0, refused.SessionId);

        // The right password resumes the session.
        await using var resumed = await ZkWireClient.ConnectAsync(Port, sessionId: session.SessionId, passwd: session.Passwd);
        Assert.Equal(session.SessionId, resumed.Session!.SessionId);
    }

    [Fact]
    public async Task Session_timeout_is_clamped_to_two_and_twenty_ticks()
    {
        await using var low = await ZkWireClient.ConnectAsync(Port, timeoutMs: 10);
        Assert.Equal(1000, low.Session!.TimeOut);
        await using var high = await ZkWireClient.ConnectAsync(Port, timeoutMs: 1_000_000);
        Assert.Equal(10000, high.Session!.TimeOut);
    }

    [Fact]
    public async Task Auth_and_set_watches_pipelined_before_the_handshake_answer_are_processed_in_order()
    {
        var path = Unique();
        await using var setup = await ZkWireClient.ConnectAsync(Port);
        await setup.RequestAsync(OpCode.Create, w => new CreateRequest(path, [1], [.. Acl.OpenAclUnsafe], 0).Write(w));

        await using var client = await ZkWireClient.OpenAsync(Port);
        await client.SendFrameAsync(w => new ConnectRequest(0, 0, 10000, 0, new byte[16], false, true).Write(w));
        await client.SendFrameAsync(w =>
        {
            new RequestHeader(Xids.Auth, OpCode.Auth).Write(w);
            new AuthPacket(0, "digest", "user:pw"u8.ToArray()).Write(w);
        });
        await client.SendFrameAsync(w =>
        {
            new RequestHeader(Xids.SetWatches, OpCode.SetWatches).Write(w);
            new SetWatchesRequest(0, [path], [path + "/missing"], [path], null, null).Write(w);
        });
        Assert.NotNull(await client.ReadConnectResponseAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        var authReply = client.ExpectReply(Xids.Auth);
        var setWatchesReply = client.ExpectReply(Xids.SetWatches);
        client.StartReceiving();
        Assert.Equal(ErrorCode.Ok, (await authReply).Header.Err);
        Assert.Equal(ErrorCode.Ok, (await setWatchesReply).Header.Err);

        // The data watch on a node created after zxid 0 fires at once as NodeDataChanged, as ZooKeeper does.
        var (e, _) = await client.Events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(EventType.NodeDataChanged, e.Type);
        var (who, body) = await client.RequestAsync(OpCode.WhoAmI);
        Assert.Equal(ErrorCode.Ok, who.Err);
        var ids = ZkWireClient.Decode(body, WhoAmIResponse.Read).ClientInfo;
        Assert.Contains(ids, i => i.AuthScheme == "digest" && i.User.StartsWith("user:", StringComparison.Ordinal));
        Assert.Null(client.ProtocolViolation);
        lock (client.Arrivals)
        {
            // Replies in request order, and the watches SetWatches fires before its reply. A new node's pzxid is
            // its czxid, so the child watch fires as well, exactly as in ZooKeeper.
            Assert.Equal(
                ["reply:-4", $"event:{EventType.NodeDataChanged}:{path}", $"event:{EventType.NodeChildrenChanged}:{path}", "reply:-8"],
                client.Arrivals.Take(4));
        }
    }

    [Fact]
    public async Task Unknown_auth_scheme_fails_and_closes()
    {
        await using var client = await ZkWireClient.ConnectAsync(Port);
        var reply = client.RequestAsync(OpCode.Auth, w => new AuthPacket(0, "nosuch", [1]).Write(w), Xids.Auth);
        var (header, _) = await reply;
        Assert.Equal(ErrorCode.AuthFailed, header.Err);
        await client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Many_pipelined_requests_come_back_in_xid_order_with_reads_seeing_earlier_writes()
    {
        var path = Unique();
        await using var client = await ZkWireClient.ConnectAsync(Port);
        await client.RequestAsync(OpCode.Create, w => new CreateRequest(path, [0], [.. Acl.OpenAclUnsafe], 0).Write(w));
        var pending = new List<Task<(ReplyHeader Header, byte[] Body)>>();
        for (var i = 1; i <= 200; i++)
        {
            var value = (byte)i;
            pending.Add(client.RequestAsync(OpCode.SetData, w => new SetDataRequest(path, [value], -1).Write(w)));
            pending.Add(client.RequestAsync(OpCode.GetData, w => new PathWatchRequest(path, false).Write(w)));
        }

        var replies = await Task.WhenAll(pending);
        Assert.Null(client.ProtocolViolation);
        for (var i = 0; i < 200; i++)
        {
            var set = ZkWireClient.Decode(replies[2 * i].Body, Stat.Read);
            var get = ZkWireClient.Decode(replies[(2 * i) + 1].Body, GetDataResponse.Read);
            Assert.Equal(i + 1, set.Version);

            // FIFO: the read sent right after a write sees that write (and nothing older).
            Assert.True(get.Stat.Version >= i + 1, $"read {i} saw version {get.Stat.Version}");
            Assert.True(replies[2 * i].Header.Zxid < replies[(2 * i) + 2 < replies.Length ? (2 * i) + 2 : 2 * i].Header.Zxid || i == 199);
        }
    }

    [Fact]
    public async Task Mntr_counts_watches_in_every_subtree()
    {
        // A fresh top-level path lives in its own subtree grain.
        var path = Unique() + "/child";
        await using var client = await ZkWireClient.ConnectAsync(Port);
        var before = await FourLetterWord.MntrAsync(Port, "zk_watch_count");
        Assert.Equal(ErrorCode.NoNode, (await client.RequestAsync(OpCode.Exists, w => new PathWatchRequest(path, true).Write(w))).Header.Err);
        Assert.Equal(before + 1, await FourLetterWord.MntrAsync(Port, "zk_watch_count"));
    }

    [Fact]
    public async Task Srvr_and_mntr_report_measured_latency_and_srst_and_crst_reset_the_counters()
    {
        await using var client = await ZkWireClient.ConnectAsync(Port);
        var parent = Unique();
        Assert.Equal(ErrorCode.Ok, (await client.CreateAsync(parent, [])).Header.Err);

        // Pipelined writes queue behind each other's fsyncs: the last ones take at least a millisecond.
        var writes = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => client.CreateAsync($"{parent}/n{i}", new byte[100])));
        Assert.All(writes, w => Assert.Equal(ErrorCode.Ok, w.Header.Err));

        static string Field(string text, string prefix) =>
            text.Split('\n').Single(l => l.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..];
        var srvr = await FourLetterWord.AskAsync(Port, "srvr");
        var latency = Field(srvr, "Latency min/avg/max: ").Split('/').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(latency[0] <= latency[1] && latency[1] <= latency[2] && latency[2] >= 1, $"latency {string.Join('/', latency)}");
        Assert.True(long.Parse(Field(srvr, "Received: "), System.Globalization.CultureInfo.InvariantCulture) >= 301);
        Assert.True(await FourLetterWord.MntrAsync(Port, "zk_max_latency") >= 1);
        Assert.Contains("zk_server_state\tstandalone\n", await FourLetterWord.AskAsync(Port, "mntr"), StringComparison.Ordinal);

        var cons = await FourLetterWord.AskAsync(Port, "cons");
        var session = $"sid=0x{client.Session!.SessionId:x}";
        Assert.Contains(session, cons, StringComparison.Ordinal);
        Assert.Matches(@"recved=(30[1-9]|3[1-9]\d|[4-9]\d\d),", cons.Split('\n').Single(l => l.Contains(session, StringComparison.Ordinal)));

        Assert.Equal("Server stats reset.\n", await FourLetterWord.AskAsync(Port, "srst"));
        Assert.True(long.Parse(Field(await FourLetterWord.AskAsync(Port, "srvr"), "Received: "), System.Globalization.CultureInfo.InvariantCulture) < 301);
        Assert.Equal("Connection stats reset.\n", await FourLetterWord.AskAsync(Port, "crst"));
        var ours = (await FourLetterWord.AskAsync(Port, "cons")).Split('\n').Single(l => l.Contains(session, StringComparison.Ordinal));
        Assert.Contains("recved=0,sent=0,", ours, StringComparison.Ordinal);
        Assert.Contains("maxlat=0)", ours, StringComparison.Ordinal);

        // The txn log holds the writes: dirs counts its bytes.
        var dirs = await FourLetterWord.AskAsync(Port, "dirs");
        Assert.True(long.Parse(Field(dirs, "datadir_size: "), System.Globalization.CultureInfo.InvariantCulture) > 300 * 100, dirs);
    }

    [Fact]
    public async Task GetChildren_follows_every_change_of_a_parent_it_has_read()
    {
        var parent = Unique();
        await using var client = await ZkWireClient.ConnectAsync(Port);
        async Task<List<string>> ChildrenAsync()
        {
            var (header, body) = await client.RequestAsync(OpCode.GetChildren, w => new PathWatchRequest(parent, false).Write(w));
            Assert.Equal(ErrorCode.Ok, header.Err);
            return ZkWireClient.Decode(body, StringListResponse.Read).Values;
        }

        async Task SendAsync(OpCode type, string path)
        {
            var (header, _) = type == OpCode.Create
                ? await client.CreateAsync(path, [])
                : await client.RequestAsync(type, w => new DeleteRequest(path, -1).Write(w));
            Assert.Equal(ErrorCode.Ok, header.Err);
        }

        await SendAsync(OpCode.Create, parent);
        await SendAsync(OpCode.Create, parent + "/b");
        await SendAsync(OpCode.Create, parent + "/a");
        Assert.Equal(["a", "b"], await ChildrenAsync());
        Assert.Equal(["a", "b"], await ChildrenAsync());
        await SendAsync(OpCode.Create, parent + "/c");
        Assert.Equal(["a", "b", "c"], await ChildrenAsync());
        await SendAsync(OpCode.Delete, parent + "/a");
        Assert.Equal(["b", "c"], await ChildrenAsync());

        // A parent deleted and created again starts with no children.
        await SendAsync(OpCode.Delete, parent + "/b");
        await SendAsync(OpCode.Delete, parent + "/c");
        await SendAsync(OpCode.Delete, parent);
        await SendAsync(OpCode.Create, parent);
        Assert.Empty(await ChildrenAsync());
    }

    [Fact]
    public async Task Close_session_replies_then_closes_and_removes_ephemerals()
    {
        var path = Unique();
        await using var observer = await ZkWireClient.ConnectAsync(Port);
        await using var owner = await ZkWireClient.ConnectAsync(Port);
        var (created, _) = await owner.RequestAsync(OpCode.Create, w => new CreateRequest(path, null, [.. Acl.OpenAclUnsafe], (int)CreateMode.Ephemeral).Write(w));
        Assert.Equal(ErrorCode.Ok, created.Err);
        var (watch, _) = await observer.RequestAsync(OpCode.Exists, w => new PathWatchRequest(path, true).Write(w));
        Assert.Equal(ErrorCode.Ok, watch.Err);

        var (closed, _) = await owner.RequestAsync(OpCode.CloseSession);
        Assert.Equal(ErrorCode.Ok, closed.Err);
        await owner.Closed.WaitAsync(TimeSpan.FromSeconds(10));

        var (e, _) = await observer.Events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(EventType.NodeDeleted, e.Type);
        Assert.Equal(path, e.Path);
    }
}
