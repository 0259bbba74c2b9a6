using System.Globalization;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>
/// TTL nodes (createTTL, modes 5 and 6) and the ephemeralOwner of TTL and container nodes, with extendedTypesEnabled
/// and a 100 ms container check on both Apache ZooKeeper 3.8 and this server: the same replies, stats and expiries.
/// </summary>
public sealed class TtlNodeTests
{
    [Fact]
    public async Task Ttl_nodes_behave_as_in_apache_zookeeper()
    {
        var (expected, actual) = await StepLogs.RunBothAsync(
            ["extendedTypesEnabled=true", "-Dznode.container.checkIntervalMs=100"],
            ["--extendedTypesEnabled", "true", "--znode.container.checkIntervalMs", "100"],
            RunAsync);

        Assert.Contains("gone: ROOT/brief", expected);
        Assert.Contains("gone: ROOT/held", expected);
        Assert.Contains("held still there: Ok", expected);
        StepLogs.AssertSame(expected, actual);
    }

    [Fact]
    public async Task Ttl_nodes_need_extended_types_and_a_ttl_mode()
    {
        var path = "/ttl-rules-" + Guid.NewGuid().ToString("N")[..10];
        Action<JuteWriter> Ttl(CreateMode mode, long ttl) => w => new CreateTtlRequest(path, [], [.. Acl.OpenAclUnsafe], (int)mode, ttl).Write(w);

        // As ZooKeeper without extendedTypesEnabled.
        await using (var plain = await SiloProcess.StartAsync())
        {
            await using var client = await ZkWireClient.ConnectAsync(plain.Port);
            Assert.Equal(ErrorCode.Unimplemented, (await client.RequestAsync(OpCode.CreateTtl, Ttl(CreateMode.PersistentWithTtl, 1000))).Header.Err);
        }

        // createTTL of a plain node with no TTL: ZooKeeper 3.8 accepts it, then fails applying it and drops the
        // connection; here it is refused as the bad argument it is, and nothing is created.
        await using var extended = await SiloProcess.StartAsync("--extendedTypesEnabled", "true");
        await using var other = await ZkWireClient.ConnectAsync(extended.Port);
        Assert.Equal(ErrorCode.BadArguments, (await other.RequestAsync(OpCode.CreateTtl, Ttl(CreateMode.Persistent, -1))).Header.Err);
        Assert.Equal(ErrorCode.NoNode, (await other.RequestAsync(OpCode.Exists, w => new PathWatchRequest(path, false).Write(w))).Header.Err);
    }

    /// <summary>A TTL node's TTL is kept in the log: after a restart it still expires once it has no children.</summary>
    [Fact]
    public async Task Ttl_nodes_expire_after_a_restart()
    {
        var dataDir = SiloProcess.NewDataDir();
        string[] settings = ["--extendedTypesEnabled", "true", "--znode.container.checkIntervalMs", "100"];
        var path = "/ttl-restart-" + Guid.NewGuid().ToString("N")[..10];
        await using (var first = await SiloProcess.StartInAsync(dataDir, ownsDataDir: false, settings))
        {
            await using var client = await ZkWireClient.ConnectAsync(first.Port);
            Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.CreateTtl, w => new CreateTtlRequest(path, [], [.. Acl.OpenAclUnsafe], (int)CreateMode.PersistentWithTtl, 500).Write(w))).Header.Err);
            Assert.Equal(ErrorCode.Ok, (await client.CreateAsync(path + "/child", [])).Header.Err);
            await first.KillAsync();
        }

        await using var second = await SiloProcess.StartInAsync(dataDir, ownsDataDir: true, settings);
        await using var again = await ZkWireClient.ConnectAsync(second.Port);
        Assert.Equal(ErrorCode.Ok, (await again.RequestAsync(OpCode.Exists, w => new PathWatchRequest(path, true).Write(w))).Header.Err);
        Assert.Equal(ErrorCode.Ok, (await again.RequestAsync(OpCode.Delete, w => new DeleteRequest(path + "/child", -1).Write(w))).Header.Err);
        var deleted = await again.Events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((EventType.NodeDeleted, path), (deleted.Event.Type, deleted.Event.Path));
    }

    private static async Task<List<string>> RunAsync(int port)
    {
        var root = "/ttl-" + Guid.NewGuid().ToString("N")[..10];
        var log = new List<string>();
        await using var client = await ZkWireClient.ConnectAsync(port);

        static string Owner(Stat stat) => stat.EphemeralOwner.ToString("x16", CultureInfo.InvariantCulture);
        async Task<ErrorCode> Step(string label, OpCode type, Action<JuteWriter> body)
        {
            var (header, reply) = await client.RequestAsync(type, body);
            var text = "";
            if (header.Err == ErrorCode.Ok && type is OpCode.CreateTtl or OpCode.CreateContainer or OpCode.Create2)
            {
                var created = ZkWireClient.Decode(reply, Create2Response.Read);
                text = $" {created.Path} owner {Owner(created.Stat)}";
            }
            else if (header.Err == ErrorCode.Ok && type == OpCode.Multi)
            {
                text = " " + string.Join(" | ", ZkWireClient.Decode(reply, MultiResponse.Read).Results.Select(r => $"{r.Type} {r.Err} {r.Path} {Owner(r.Stat)}"));
            }

            log.Add($"{label}: {header.Err}{text}".Replace(root, "ROOT", StringComparison.Ordinal));
            return header.Err;
        }

        Action<JuteWriter> Ttl(string path, CreateMode mode, long ttl) => w => new CreateTtlRequest(path, [1], [.. Acl.OpenAclUnsafe], (int)mode, ttl).Write(w);
        Action<JuteWriter> Create(string path, CreateMode mode) => w => new CreateRequest(path, [1], [.. Acl.OpenAclUnsafe], (int)mode).Write(w);

        await Step("root", OpCode.Create2, Create(root, CreateMode.Persistent));
        await Step("ttl 60000", OpCode.CreateTtl, Ttl(root + "/t", CreateMode.PersistentWithTtl, 60000));
        await Step("sequential ttl", OpCode.CreateTtl, Ttl(root + "/s-", CreateMode.PersistentSequentialWithTtl, 60000));
        await Step("child of a ttl node", OpCode.Create2, Create(root + "/t/child", CreateMode.Persistent));
        await Step("ttl of 0", OpCode.CreateTtl, Ttl(root + "/zero", CreateMode.PersistentWithTtl, 0));
        await Step("ttl too long", OpCode.CreateTtl, Ttl(root + "/long", CreateMode.PersistentWithTtl, EphemeralOwners.MaxTtl + 1));
        await Step("ttl at the longest", OpCode.CreateTtl, Ttl(root + "/longest", CreateMode.PersistentWithTtl, EphemeralOwners.MaxTtl));
        await Step("createTTL of a plain node", OpCode.CreateTtl, Ttl(root + "/plain", CreateMode.Persistent, 1000));
        await Step("create with a ttl mode", OpCode.Create2, Create(root + "/nottl", CreateMode.PersistentWithTtl));
        await Step("container", OpCode.CreateContainer, Create(root + "/box", CreateMode.Container));
        await Step("multi with ttl", OpCode.Multi, w => new MultiRequest(
        [
            new MultiOp(OpCode.CreateTtl, root + "/m", [1], [.. Acl.OpenAclUnsafe], (int)CreateMode.PersistentWithTtl, Ttl: 60000),
            new MultiOp(OpCode.Create2, root + "/m/c", [1], [.. Acl.OpenAclUnsafe], (int)CreateMode.Persistent),
        ]).Write(w));

        // Expiry: a TTL node with a child stays; one without goes once its TTL has passed, through the log.
        // The node and its child come in one multi, so that no container check finds the node without its child.
        await Step("ttl 1 with a child", OpCode.Multi, w => new MultiRequest(
        [
            new MultiOp(OpCode.CreateTtl, root + "/held", [1], [.. Acl.OpenAclUnsafe], (int)CreateMode.PersistentWithTtl, Ttl: 1),
            new MultiOp(OpCode.Create2, root + "/held/c", [1], [.. Acl.OpenAclUnsafe], (int)CreateMode.Persistent),
        ]).Write(w));
        await Step("ttl 1", OpCode.CreateTtl, Ttl(root + "/brief", CreateMode.PersistentWithTtl, 1));
        await Gone(root + "/brief");
        await Step("held still there", OpCode.Exists, w => new PathWatchRequest(root + "/held", false).Write(w));
        await Step("its child goes", OpCode.Delete, w => new DeleteRequest(root + "/held/c", -1).Write(w));
        await Gone(root + "/held");
        await Step("ttl 60000 still there", OpCode.Exists, w => new PathWatchRequest(root + "/t", false).Write(w));
        Assert.Null(client.ProtocolViolation);
        return log;

        // Whether the 100 ms container check deletes the node before the watch is set or after is a race on either
        // server: both outcomes log the same line, and a node that stays fails the step.
        async Task Gone(string path)
        {
            var (header, _) = await client.RequestAsync(OpCode.Exists, w => new PathWatchRequest(path, true).Write(w));
            if (header.Err == ErrorCode.NoNode)
            {
                log.Add($"gone: {path}".Replace(root, "ROOT", StringComparison.Ordinal));
                return;
            }

            var e = await client.Events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            log.Add(e.Event.Type == EventType.NodeDeleted ? $"gone: {e.Event.Path}".Replace(root, "ROOT", StringComparison.Ordinal) : $"unexpected {e.Event.Type} {e.Event.Path}");
        }
    }
}
