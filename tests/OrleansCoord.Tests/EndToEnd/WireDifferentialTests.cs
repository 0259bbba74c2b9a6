using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>
/// Opcodes no Debian client library exposes (getEphemerals, getAllChildrenNumber, checkWatches,
/// removeWatches, multiRead, unknown opcodes, whoAmI, reconfig), sent as raw frames to
/// Apache ZooKeeper 3.8 and to this server; the decoded replies must be the same.
/// </summary>
public sealed class WireDifferentialTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    [Fact]
    public async Task Raw_replies_match_apache_zookeeper()
    {
        await using var reference = await ReferenceZooKeeper.StartAsync();
        var expected = await RunAsync(reference.Port);
        var actual = await RunAsync(fixture.Silo.Port);
        StepLogs.AssertSame(expected, actual);
    }

    private static async Task<List<string>> RunAsync(int port)
    {
        var root = "/wd-" + Guid.NewGuid().ToString("N")[..10];
        var log = new List<string>();
        await using var a = await ZkWireClient.ConnectAsync(port);

        async Task Step(string label, OpCode type, Action<JuteWriter>? body, Func<byte[], string>? describe = null)
        {
            var (header, reply) = await a.RequestAsync(type, body);
            var text = header.Err == ErrorCode.Ok && describe is not null ? describe(reply) : "";
            log.Add($"{label}: {header.Err} {text}".Replace(root, "ROOT", StringComparison.Ordinal));
        }

        Action<JuteWriter> Create(string path, CreateMode mode = CreateMode.Persistent) => w => new CreateRequest(path, [1], [.. Acl.OpenAclUnsafe], (int)mode).Write(w);
        Action<JuteWriter> Path(string path) => w => new PathRequest(path).Write(w);
        Action<JuteWriter> Watches(string path, WatcherType type) => w => new WatchesRequest(path, type).Write(w);
        static string Int(byte[] b) => ZkWireClient.Decode(b, GetAllChildrenNumberResponse.Read).TotalNumber.ToString(System.Globalization.CultureInfo.InvariantCulture);
        static string List(byte[] b) => string.Join(",", ZkWireClient.Decode(b, StringListResponse.Read).Values.Order(StringComparer.Ordinal));

        await Step("create root", OpCode.Create, Create(root));
        foreach (var child in new[] { "/a", "/a/b", "/c" })
        {
            await Step("create " + child, OpCode.Create, Create(root + child));
        }

        await Step("ephemeral e1", OpCode.Create, Create(root + "/e1", CreateMode.Ephemeral));
        await Step("ephemeral e2", OpCode.Create, Create(root + "/e2", CreateMode.Ephemeral));
        await Step("all children of root", OpCode.GetAllChildrenNumber, Path(root), Int);
        await Step("all children of a", OpCode.GetAllChildrenNumber, Path(root + "/a"), Int);
        await Step("all children of a leaf", OpCode.GetAllChildrenNumber, Path(root + "/c"), Int);
        await Step("all children of missing", OpCode.GetAllChildrenNumber, Path(root + "/missing"), Int);
        await Step("ephemerals under root", OpCode.GetEphemerals, Path(root), List);
        await Step("ephemerals all", OpCode.GetEphemerals, Path("/"), List);
        await Step("ephemerals by prefix", OpCode.GetEphemerals, Path(root + "/e1"), List);
        await Step("ephemerals none", OpCode.GetEphemerals, Path("/nothing-here"), List);
        await Step("check data watch absent", OpCode.CheckWatches, Watches(root + "/a", WatcherType.Data));
        await Step("getData with watch", OpCode.GetData, w => new PathWatchRequest(root + "/a", true).Write(w));
        await Step("check data watch", OpCode.CheckWatches, Watches(root + "/a", WatcherType.Data));
        await Step("check any watch", OpCode.CheckWatches, Watches(root + "/a", WatcherType.Any));
        await Step("check child watch absent", OpCode.CheckWatches, Watches(root + "/a", WatcherType.Children));
        await Step("remove child watch absent", OpCode.RemoveWatches, Watches(root + "/a", WatcherType.Children));
        await Step("remove data watch", OpCode.RemoveWatches, Watches(root + "/a", WatcherType.Data));
        await Step("check data watch removed", OpCode.CheckWatches, Watches(root + "/a", WatcherType.Data));
        await Step("exists watch on missing", OpCode.Exists, w => new PathWatchRequest(root + "/x", true).Write(w));
        await Step("remove exists watch", OpCode.RemoveWatches, Watches(root + "/x", WatcherType.Any));
        await Step("child watch", OpCode.GetChildren, w => new PathWatchRequest(root, true).Write(w), List);
        await Step("remove all watches", OpCode.RemoveWatches, Watches(root, WatcherType.Any));
        await Step("multiRead", OpCode.MultiRead, w => new MultiRequest(
        [
            new MultiOp(OpCode.GetData, root + "/a"),
            new MultiOp(OpCode.GetChildren, root),
            new MultiOp(OpCode.GetData, root + "/missing"),
            new MultiOp(OpCode.GetChildren, root + "/missing"),
        ]).Write(w), b => string.Join(" | ", ZkWireClient.Decode(b, MultiResponse.Read).Results.Select(r =>
            $"{r.Type} {r.Err} {Convert.ToHexString(r.Data ?? [])} v{r.Stat.Version} n{r.Stat.NumChildren} [{string.Join(",", (r.Children ?? []).Order(StringComparer.Ordinal))}]")));
        // A quota's usage shows in its zookeeper_stats node, through getData and multiRead alike.
        var stats = $"/zookeeper/quota{root}/zookeeper_stats";
        Action<JuteWriter> CreateWith(string path, string data) => w => new CreateRequest(path, System.Text.Encoding.UTF8.GetBytes(data), [.. Acl.OpenAclUnsafe], 0).Write(w);
        await Step("quota parent", OpCode.Create, Create("/zookeeper/quota" + root));
        await Step("quota limits", OpCode.Create, CreateWith($"/zookeeper/quota{root}/zookeeper_limits", "count=10,bytes=-1"));
        await Step("quota stats", OpCode.Create, CreateWith(stats, "count=0,bytes=0"));
        await Step("quota usage by getData", OpCode.GetData, w => new PathWatchRequest(stats, false).Write(w),
            b => System.Text.Encoding.UTF8.GetString(ZkWireClient.Decode(b, GetDataResponse.Read).Data ?? []));
        await Step("quota usage by multiRead", OpCode.MultiRead, w => new MultiRequest([new MultiOp(OpCode.GetData, stats)]).Write(w),
            b => System.Text.Encoding.UTF8.GetString(ZkWireClient.Decode(b, MultiResponse.Read).Results[0].Data ?? []));
        await Step("whoAmI", OpCode.WhoAmI, null, b => string.Join(",", ZkWireClient.Decode(b, WhoAmIResponse.Read).ClientInfo.Select(c => c.AuthScheme + ":" + c.User)));
        await Step("reconfig", OpCode.Reconfig, w => new ReconfigRequest(null, null, "server.1=127.0.0.1:2888:3888;2181", -1).Write(w));
        await Step("sync", OpCode.Sync, Path(root), b => ZkWireClient.Decode(b, PathRequest.Read).Path);

        // deleteContainer's body is the bare path; only containers (and TTL nodes) may go this way.
        Action<JuteWriter> RawPath(string path) => w => w.WriteRawUtf8(path);
        await Step("container", OpCode.CreateContainer, w => new CreateRequest(root + "/box", null, [.. Acl.OpenAclUnsafe], (int)CreateMode.Container).Write(w),
            b => ZkWireClient.Decode(b, Create2Response.Read).Path);
        await Step("container child", OpCode.Create, Create(root + "/box/item"));
        await Step("deleteContainer not empty", OpCode.DeleteContainer, RawPath(root + "/box"));
        await Step("deleteContainer plain node", OpCode.DeleteContainer, RawPath(root + "/c"));
        await Step("deleteContainer missing", OpCode.DeleteContainer, RawPath(root + "/nothing"));
        await Step("delete container child", OpCode.Delete, w => new DeleteRequest(root + "/box/item", -1).Write(w));
        await Step("deleteContainer", OpCode.DeleteContainer, RawPath(root + "/box"));
        await Step("container gone", OpCode.Exists, w => new PathWatchRequest(root + "/box", false).Write(w));

        // Last, because ZooKeeper 3.8.0 closes the connection after answering it; this server keeps it
        // open, as the issue asks. A top-level check is left out: 3.8.0 never answers it at all, which
        // hangs clients; this server answers UNIMPLEMENTED (WireProtocolTests).
        await Step("unknown opcode", (OpCode)999, null);
        Assert.Null(a.ProtocolViolation);
        return log;
    }
}
