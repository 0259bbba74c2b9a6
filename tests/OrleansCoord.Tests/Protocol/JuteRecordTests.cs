using System.Buffers;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Framing;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Protocol;

/// <summary>Round trips of every record, the null/empty distinction, and the framing rules.</summary>
public sealed class JuteRecordTests
{
    private static readonly Stat S = new(1, 2, 1700000000000, 1700000000001, 3, 4, 5, 0x0102030405060708, 6, 7, 8);
    private static readonly List<Acl> A = [new Acl(Perms.All, Id.Anyone), new Acl(Perms.Read, new Id("digest", "u:hash="))];

    /// <summary>Encodes, decodes, and encodes the decoded value again: both encodings must be identical.</summary>
    private static T RoundTrip<T>(Action<JuteWriter> write, JuteDecoder<T> read, Func<T, Action<JuteWriter>> writerOf)
    {
        var bytes = ZkWireClient.Encode(write, prefix: false);
        var reader = new JuteReader(bytes);
        var value = read(ref reader);
        Assert.True(reader.AtEnd, "decoder left bytes unread");
        Assert.Equal(bytes, ZkWireClient.Encode(writerOf(value), prefix: false));
        return value;
    }

    [Fact]
    public void Records_round_trip()
    {
        Assert.Equal(S, RoundTrip(S.Write, Stat.Read, v => v.Write));
        Assert.Equal(Stat.EncodedLength, ZkWireClient.Encode(S.Write, false).Length);
        var create = RoundTrip(new CreateRequest("/a/b", "hello"u8.ToArray(), A, 3).Write, CreateRequest.Read, v => v.Write);
        Assert.Equal(A, create.Acl);
        Assert.Equal("hello"u8.ToArray(), create.Data);
        Assert.Equal(60000, RoundTrip(new CreateTtlRequest("/a", null, A, 5, 60000).Write, CreateTtlRequest.Read, v => v.Write).Ttl);
        Assert.Equal(S, RoundTrip(new Create2Response("/a0000000001", S).Write, Create2Response.Read, v => v.Write).Stat);
        Assert.Equal(5, RoundTrip(new DeleteRequest("/a", 5).Write, DeleteRequest.Read, v => v.Write).Version);
        Assert.True(RoundTrip(new PathWatchRequest("/a", true).Write, PathWatchRequest.Read, v => v.Write).Watch);
        Assert.Equal(-1, RoundTrip(new SetDataRequest("/a", [1], -1).Write, SetDataRequest.Read, v => v.Write).Version);
        Assert.Equal(2, RoundTrip(new SetAclRequest("/a", A, 2).Write, SetAclRequest.Read, v => v.Write).Version);
        Assert.Equal(["x", "y"], RoundTrip(new GetChildren2Response(["x", "y"], S).Write, GetChildren2Response.Read, v => v.Write).Children);
        Assert.Equal(A, RoundTrip(new GetAclResponse(A, S).Write, GetAclResponse.Read, v => v.Write).Acl);
        Assert.Equal("/a", RoundTrip(new WatcherEvent(EventType.NodeDataChanged, KeeperState.SyncConnected, "/a").Write, WatcherEvent.Read, v => v.Write).Path);
        Assert.Equal(["/p"], RoundTrip(new SetWatchesRequest(16, ["/a"], ["/b"], ["/c"], ["/p"], ["/r"]).Write, (ref JuteReader r) => SetWatchesRequest.Read(ref r, true), v => v.Write).PersistentWatches);
        Assert.Equal("digest", RoundTrip(new AuthPacket(0, "digest", "user:pass"u8.ToArray()).Write, AuthPacket.Read, v => v.Write).Scheme);
        Assert.Equal(42, RoundTrip(new GetAllChildrenNumberResponse(42).Write, GetAllChildrenNumberResponse.Read, v => v.Write).TotalNumber);
        Assert.Equal(2, RoundTrip(new WhoAmIResponse([new ClientInfo("digest", "u"), new ClientInfo("ip", "127.0.0.1")]).Write, WhoAmIResponse.Read, v => v.Write).ClientInfo.Count);
        var multi = RoundTrip(new MultiRequest([new MultiOp(OpCode.Create, "/m", [1], A), new MultiOp(OpCode.SetData, "/m", [2]), new MultiOp(OpCode.Check, "/m", Version: 1), new MultiOp(OpCode.Delete, "/m")]).Write, MultiRequest.Read, v => v.Write);
        Assert.Equal([OpCode.Create, OpCode.SetData, OpCode.Check, OpCode.Delete], multi.Ops.Select(o => o.Type));
        var results = RoundTrip(new MultiResponse([new MultiResult(OpCode.Create, Path: "/m"), new MultiResult(OpCode.SetData, Stat: S), new MultiResult(OpCode.Check), MultiResult.Error(ErrorCode.BadVersion)]).Write, MultiResponse.Read, v => v.Write);
        Assert.Equal(ErrorCode.BadVersion, results.Results[3].Err);
    }

    [Fact]
    public void Connect_records_keep_the_optional_read_only_flag_as_sent()
    {
        var with = RoundTrip(new ConnectRequest(0, 5, 30000, 9, new byte[16], true, true).Write, ConnectRequest.Read, v => v.Write);
        Assert.True(with.HasReadOnly && with.ReadOnly);
        var without = RoundTrip(new ConnectRequest(0, 5, 30000, 9, new byte[16], false, false).Write, ConnectRequest.Read, v => v.Write);
        Assert.False(without.HasReadOnly);
        Assert.Equal(44, ZkWireClient.Encode(without.Write, false).Length);
        Assert.Equal(45, ZkWireClient.Encode(with.Write, false).Length);
        Assert.Equal(37, ZkWireClient.Encode(new ConnectResponse(0, 30000, 9, new byte[16], false, true).Write, false).Length);
    }

    [Fact]
    public void Common_acl_ids_are_read_as_the_shared_strings_and_others_as_sent()
    {
        Acl[] acl = [new Acl(Perms.All, Id.Anyone), new Acl(Perms.Read, new Id("x509", "CN=älice")), new Acl(Perms.Read, new Id("worlds", "any"))];
        var bytes = ZkWireClient.Encode(w => Acl.WriteList(w, acl), prefix: false);
        var reader = new JuteReader(bytes);
        var read = Acl.ReadList(ref reader)!;

        Assert.Equal(acl, read);
        Assert.Same(Id.Anyone.Scheme, read[0].Id.Scheme);
        Assert.Same(Id.Anyone.Identity, read[0].Id.Identity);
        Assert.NotSame(Id.Anyone.Scheme, read[2].Id.Scheme);
    }

    [Fact]
    public void Null_and_empty_buffers_stay_distinct()
    {
        Assert.Null(RoundTrip(new GetDataResponse(null, S).Write, GetDataResponse.Read, v => v.Write).Data);
        Assert.Equal([], RoundTrip(new GetDataResponse([], S).Write, GetDataResponse.Read, v => v.Write).Data!);
        Assert.Equal([0xff, 0xff, 0xff, 0xff], ZkWireClient.Encode(w => w.WriteBuffer((byte[]?)null), false));
    }

    [Fact]
    public void Truncated_and_lying_records_throw_instead_of_reading_past_the_frame()
    {
        var bytes = ZkWireClient.Encode(new CreateRequest("/a", [1, 2], A, 0).Write, false);
        Assert.Throws<JuteException>(() => { var r = new JuteReader(bytes.AsSpan(0, bytes.Length - 1)); CreateRequest.Read(ref r); });
        Assert.Throws<JuteException>(() => { var r = new JuteReader(new byte[] { 0x7f, 0, 0, 0 }); r.ReadBuffer(); });
        Assert.Throws<JuteException>(() => { var r = new JuteReader(new byte[] { 0x7f, 0, 0, 0 }); r.ReadStringList(); });
        Assert.Throws<JuteException>(() => { var r = new JuteReader(new byte[] { 0, 0, 0, 99, 0, 0, 0, 0, 0 }); MultiRequest.Read(ref r); });
    }

    [Fact]
    public void Framing_cuts_whole_frames_and_rejects_bad_lengths()
    {
        var frame = ZkWireClient.Encode(w => new RequestHeader(1, OpCode.Ping).Write(w), prefix: true);
        var twice = new ReadOnlySequence<byte>([.. frame, .. frame]);
        Assert.Equal(FrameStatus.Frame, FrameReader.TryRead(twice, 100, false, out var payload, out var consumed, out _));
        Assert.Equal(8, payload.Length);
        Assert.Equal(FrameStatus.Frame, FrameReader.TryRead(twice.Slice(consumed), 100, false, out _, out _, out _));
        Assert.Equal(FrameStatus.Incomplete, FrameReader.TryRead(new ReadOnlySequence<byte>(frame.AsMemory(0, 7)), 100, false, out _, out _, out _));
        Assert.Equal(FrameStatus.BadLength, FrameReader.TryRead(new ReadOnlySequence<byte>(new byte[] { 0, 0, 1, 0 }), 100, false, out _, out _, out _));
        Assert.Equal(FrameStatus.BadLength, FrameReader.TryRead(new ReadOnlySequence<byte>(new byte[] { 0xff, 0xff, 0xff, 0xff }), 100, false, out _, out _, out _));
        var ruok = new ReadOnlySequence<byte>("ruok"u8.ToArray());
        Assert.Equal(FrameStatus.FourLetterWord, FrameReader.TryRead(ruok, FrameReader.DefaultMaxBuffer, true, out _, out _, out _));
        Assert.NotEqual(FrameStatus.FourLetterWord, FrameReader.TryRead(ruok, FrameReader.DefaultMaxBuffer, false, out _, out _, out _));
    }

    [Theory]
    [InlineData("/", true)]
    [InlineData("/a/b", true)]
    [InlineData("/a.b/..c", true)]
    [InlineData("", false)]
    [InlineData("a", false)]
    [InlineData("/a/", false)]
    [InlineData("//a", false)]
    [InlineData("/a/./b", false)]
    [InlineData("/a/../b", false)]
    [InlineData("/a/..", false)]
    [InlineData("/a\u0000b", false)]
    [InlineData("/a\u0001b", false)]
    [InlineData("/a\ud800b", false)]
    public void Paths_follow_zookeepers_rules(string path, bool valid) => Assert.Equal(valid, PathValidation.Validate(path) is null);

    [Fact]
    public void Sequential_create_may_end_with_a_slash() => Assert.Null(PathValidation.Validate("/a/", sequential: true));
}
