using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>audit.enable: one line per write and per closed session's ephemerals, in ZooKeeper's audit format.</summary>
public sealed class AuditLogTests
{
    [Fact]
    public async Task Writes_and_session_ends_are_audited_as_zookeeper_audits_them()
    {
        await using var silo = await SiloProcess.StartAsync("--audit.enable", "true");
        var root = "/audit-" + Guid.NewGuid().ToString("N")[..8];
        long sessionId;
        await using (var client = await ZkWireClient.ConnectAsync(silo.Port))
        {
            sessionId = client.Session!.SessionId;
            Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.Auth, w => new AuthPacket(0, "digest", "alice:secret"u8.ToArray()).Write(w), xid: Xids.Auth)).Header.Err);
            Assert.Equal(ErrorCode.Ok, (await client.CreateAsync(root, [1])).Header.Err);
            Assert.Equal(ErrorCode.NodeExists, (await client.CreateAsync(root, [1])).Header.Err);
            Assert.Equal(ErrorCode.Ok, (await client.CreateAsync(root + "/e", [], CreateMode.Ephemeral)).Header.Err);
            Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.SetData, w => new SetDataRequest(root, [2], -1).Write(w))).Header.Err);
            Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.SetAcl, w => new SetAclRequest(root, [new Acl(Perms.All, Id.Anyone)], -1).Write(w))).Header.Err);
            Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.CloseSession)).Header.Err);
        }

        var session = "session=0x" + sessionId.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        string[] expected =
        [
            $"{session}\tuser=127.0.0.1,alice\tip=127.0.0.1\toperation=create\tznode={root}\tznode_type=persistent\tresult=success",
            $"{session}\tuser=127.0.0.1,alice\tip=127.0.0.1\toperation=create\tznode={root}\tznode_type=persistent\tresult=failure",
            $"{session}\tuser=127.0.0.1,alice\tip=127.0.0.1\toperation=create\tznode={root}/e\tznode_type=ephemeral\tresult=success",
            $"{session}\tuser=127.0.0.1,alice\tip=127.0.0.1\toperation=setData\tznode={root}\tresult=success",
            $"{session}\tuser=127.0.0.1,alice\tip=127.0.0.1\toperation=setAcl\tznode={root}\tacl=world:anyone:cdrwa\tresult=success",
            $"{session}\tuser={Environment.UserName}\toperation=ephemeralZNodeDeletionOnSessionCloseOrExpire\tznode={root}/e\tresult=success",
        ];

        // Each line is logged before its reply goes out, but the console writes it a moment later: wait for the last one.
        List<string> Lines() => [.. silo.Output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Contains("\tresult=", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf("] ", StringComparison.Ordinal) + 2)..])];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Lines().Contains(expected[^1]) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var lines = Lines();
        Assert.Contains($"user={Environment.UserName}\toperation=serverStart\tresult=success", lines);
        Assert.Equal(expected, lines.Where(l => l.StartsWith(session, StringComparison.Ordinal)));
    }
}
