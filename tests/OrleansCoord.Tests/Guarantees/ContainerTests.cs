using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Guarantees;

/// <summary>Container nodes: the server deletes them through the log once their last child is gone.</summary>
public sealed class ContainerTests
{
    [Fact]
    public async Task An_emptied_container_is_deleted_and_a_never_used_one_is_kept()
    {
        await using var silo = await SiloProcess.StartAsync("--znode.container.checkIntervalMs", "100");
        await using var client = await ZkWireClient.ConnectAsync(silo.Port);
        var unused = "/never-used-" + Guid.NewGuid().ToString("N")[..8];
        var used = "/used-" + Guid.NewGuid().ToString("N")[..8];
        foreach (var path in new[] { unused, used })
        {
            var (created, body) = await client.RequestAsync(OpCode.CreateContainer, w => new CreateRequest(path, null, [.. Acl.OpenAclUnsafe], (int)CreateMode.Container).Write(w));
            Assert.Equal(ErrorCode.Ok, created.Err);

            // Clients see ephemeralOwner 0 for containers.
            Assert.Equal(0, ZkWireClient.Decode(body, Create2Response.Read).Stat.EphemeralOwner);
        }

        Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.Create, w => new CreateRequest(used + "/child", null, [.. Acl.OpenAclUnsafe], 0).Write(w))).Header.Err);
        Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.Exists, w => new PathWatchRequest(used, true).Write(w))).Header.Err);
        Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.Delete, w => new DeleteRequest(used + "/child", -1).Write(w))).Header.Err);

        var (e, _) = await client.Events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal((EventType.NodeDeleted, used), (e.Type, e.Path));

        // The same collection pass saw the never-used container and left it.
        Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.Exists, w => new PathWatchRequest(unused, false).Write(w))).Header.Err);
    }

    /// <summary>znode.container.maxNeverUsedIntervalMs: a container that never had a child goes after that long.</summary>
    [Fact]
    public async Task A_never_used_container_goes_after_max_never_used_interval()
    {
        // Long enough that the exists below, sent right after the create, always finds the container, even on a loaded
        // machine (300 ms was not, once in CI).
        await using var silo = await SiloProcess.StartAsync("--znode.container.checkIntervalMs", "100", "--znode.container.maxNeverUsedIntervalMs", "2000");
        await using var client = await ZkWireClient.ConnectAsync(silo.Port);
        var path = "/never-used-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.CreateContainer, w => new CreateRequest(path, null, [.. Acl.OpenAclUnsafe], (int)CreateMode.Container).Write(w))).Header.Err);
        Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.Exists, w => new PathWatchRequest(path, true).Write(w))).Header.Err);
        var (e, _) = await client.Events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal((EventType.NodeDeleted, path), (e.Type, e.Path));
    }
}
