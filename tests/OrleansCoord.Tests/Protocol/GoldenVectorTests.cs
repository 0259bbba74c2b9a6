using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Protocol;

/// <summary>Our encodings against bytes written by Apache ZooKeeper's own classes (tests/golden).</summary>
public sealed class GoldenVectorTests
{
    private static readonly byte[] Pw = [.. Enumerable.Range(0, 16).Select(i => (byte)i)];
    private static readonly Stat S = new(1, 2, 1700000000000, 1700000000001, 3, 4, 5, 0x0102030405060708, 6, 7, 8);
    private static readonly List<Acl> A = [new Acl(Perms.All, Id.Anyone), new Acl(Perms.Read, new Id("digest", "u:hash="))];

    /// <summary>How to write each golden record with src/Protocol, and how to read it back.</summary>
    private static readonly Dictionary<string, (Action<JuteWriter> Write, Func<byte[], byte[]> Reencode)> Records = new()
    {
        ["ConnectRequest"] = (new ConnectRequest(0, 0x1122334455667788, 30000, 0x0102030405060708, Pw, false, false).Write, b => Re(b, ConnectRequest.Read, v => v.Write)),
        ["ConnectResponse"] = (new ConnectResponse(0, 30000, 0x0102030405060708, Pw, false, false).Write, b => Re(b, ConnectResponse.Read, v => v.Write)),
        ["RequestHeader"] = (new RequestHeader(7, OpCode.Create).Write, b => Re(b, RequestHeader.Read, v => v.Write)),
        ["ReplyHeader"] = (new ReplyHeader(7, 0x100000002, ErrorCode.NoNode).Write, b => Re(b, ReplyHeader.Read, v => v.Write)),
        ["Stat"] = (S.Write, b => Re(b, Stat.Read, v => v.Write)),
        ["CreateRequest"] = (new CreateRequest("/a/b", "hello"u8.ToArray(), A, 3).Write, b => Re(b, CreateRequest.Read, v => v.Write)),
        ["CreateRequestNullData"] = (new CreateRequest("/a", null, A, 0).Write, b => Re(b, CreateRequest.Read, v => v.Write)),
        ["CreateRequestEmptyAcl"] = (new CreateRequest("/a", [], [], 0).Write, b => Re(b, CreateRequest.Read, v => v.Write)),
        ["CreateTTLRequest"] = (new CreateTtlRequest("/a/b", "hello"u8.ToArray(), A, 5, 60000).Write, b => Re(b, CreateTtlRequest.Read, v => v.Write)),
        ["CreateResponse"] = (new CreateResponse("/a/b0000000001").Write, b => Re(b, CreateResponse.Read, v => v.Write)),
        ["Create2Response"] = (new Create2Response("/a/b0000000001", S).Write, b => Re(b, Create2Response.Read, v => v.Write)),
        ["DeleteRequest"] = (new DeleteRequest("/a", 5).Write, b => Re(b, DeleteRequest.Read, v => v.Write)),
        ["ExistsRequest"] = (new PathWatchRequest("/a", true).Write, b => Re(b, PathWatchRequest.Read, v => v.Write)),
        ["GetDataResponse"] = (new GetDataResponse("xyz"u8.ToArray(), S).Write, b => Re(b, GetDataResponse.Read, v => v.Write)),
        ["SetDataRequest"] = (new SetDataRequest("/a", "new"u8.ToArray(), -1).Write, b => Re(b, SetDataRequest.Read, v => v.Write)),
        ["GetACLResponse"] = (new GetAclResponse(A, S).Write, b => Re(b, GetAclResponse.Read, v => v.Write)),
        ["SetACLRequest"] = (new SetAclRequest("/a", A, 2).Write, b => Re(b, SetAclRequest.Read, v => v.Write)),
        ["GetChildrenResponse"] = (new StringListResponse(["x", "y"]).Write, b => Re(b, StringListResponse.Read, v => v.Write)),
        ["GetChildren2Response"] = (new GetChildren2Response(["x", "y"], S).Write, b => Re(b, GetChildren2Response.Read, v => v.Write)),
        ["SyncResponse"] = (new PathRequest("/a").Write, b => Re(b, PathRequest.Read, v => v.Write)),
        ["CheckVersionRequest"] = (new CheckVersionRequest("/a", 4).Write, b => Re(b, CheckVersionRequest.Read, v => v.Write)),
        ["WatcherEvent"] = (new WatcherEvent(EventType.NodeDataChanged, KeeperState.SyncConnected, "/a").Write, b => Re(b, WatcherEvent.Read, v => v.Write)),
        ["SetWatches"] = (new SetWatchesRequest(0x10, ["/a"], ["/b"], ["/c"], null, null).Write, b => Re(b, (ref JuteReader r) => SetWatchesRequest.Read(ref r, false), v => v.Write)),
        ["SetWatches2"] = (new SetWatchesRequest(0x10, ["/a"], ["/b"], ["/c"], ["/p"], ["/r"]).Write, b => Re(b, (ref JuteReader r) => SetWatchesRequest.Read(ref r, true), v => v.Write)),
        ["AuthPacket"] = (new AuthPacket(0, "digest", "user:pass"u8.ToArray()).Write, b => Re(b, AuthPacket.Read, v => v.Write)),
        ["CheckWatchesRequest"] = (new WatchesRequest("/a", WatcherType.Children).Write, b => Re(b, WatchesRequest.Read, v => v.Write)),
        ["AddWatchRequest"] = (new AddWatchRequest("/a", 1).Write, b => Re(b, AddWatchRequest.Read, v => v.Write)),
        ["GetAllChildrenNumberResponse"] = (new GetAllChildrenNumberResponse(42).Write, b => Re(b, GetAllChildrenNumberResponse.Read, v => v.Write)),
        ["WhoAmIResponse"] = (new WhoAmIResponse([new ClientInfo("digest", "u"), new ClientInfo("ip", "127.0.0.1")]).Write, b => Re(b, WhoAmIResponse.Read, v => v.Write)),
        ["ErrorResponse"] = (new ErrorResponse(ErrorCode.NoNode).Write, b => Re(b, ErrorResponse.Read, v => v.Write)),
        ["MultiRequest"] = (new MultiRequest(
            [
                new MultiOp(OpCode.Create, "/m", "d"u8.ToArray(), [.. Acl.OpenAclUnsafe], 0),
                new MultiOp(OpCode.SetData, "/m", "e"u8.ToArray(), Version: -1),
                new MultiOp(OpCode.Check, "/m", Version: 1),
                new MultiOp(OpCode.Delete, "/m", Version: -1),
            ]).Write, b => Re(b, MultiRequest.Read, v => v.Write)),
        ["MultiResponseOk"] = (new MultiResponse(
            [
                new MultiResult(OpCode.Create, Path: "/m"),
                new MultiResult(OpCode.SetData, Stat: S),
                new MultiResult(OpCode.Check),
                new MultiResult(OpCode.Delete),
            ]).Write, b => Re(b, MultiResponse.Read, v => v.Write)),
        ["MultiResponseError"] = (new MultiResponse([MultiResult.Error(ErrorCode.Ok), MultiResult.Error(ErrorCode.BadVersion), MultiResult.Error(ErrorCode.RuntimeInconsistency)]).Write, b => Re(b, MultiResponse.Read, v => v.Write)),
    };

    private static readonly Dictionary<string, string> Golden = File.ReadAllLines(Path.Combine(Repository.Root, "tests", "golden", "golden-vectors.txt"))
        .Where(line => line.Length > 0)
        .Select(line => line.Split('\t'))
        .ToDictionary(parts => parts[0], parts => parts[1]);

    public static TheoryData<string> Names() => [.. Golden.Keys];

    private static byte[] Re<T>(byte[] bytes, JuteDecoder<T> read, Func<T, Action<JuteWriter>> writerOf)
    {
        var reader = new JuteReader(bytes);
        var value = read(ref reader);
        Assert.True(reader.AtEnd, "decoder left bytes unread");
        return ZkWireClient.Encode(writerOf(value), prefix: false);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Encoding_matches_apache_zookeeper_byte_for_byte(string name)
    {
        Assert.True(Records.ContainsKey(name), $"golden record {name} has no builder in this test");
        var golden = Convert.FromHexString(Golden[name]);
        var (write, reencode) = Records[name];
        Assert.Equal(Convert.ToHexStringLower(golden), Convert.ToHexStringLower(ZkWireClient.Encode(write, prefix: false)));
        Assert.Equal(golden, reencode(golden));
    }

    [Fact]
    public void Every_builder_has_a_golden_vector() => Assert.Empty(Records.Keys.Except(Golden.Keys));
}
