using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Durability;

/// <summary>
/// readonlymode.enabled: while PostgreSQL refuses writes, clients that allow it (the ConnectRequest's readOnly flag,
/// kazoo's read_only) get read-only sessions that read and are refused writes with NOTREADONLY; isro says ro; once
/// PostgreSQL is back the gateway finds out by itself and isro says rw again.
/// </summary>
public sealed class ReadOnlyModeTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task While_writes_cannot_be_ordered_read_only_clients_read_and_others_are_refused()
    {
        await using var silo = await SiloProcess.StartAsync("--storage", "postgres", "--postgres.connectionString", await fixture.Server.CreateDatabaseAsync(),
            "--readonlymode.enabled", "true");
        await using (var writer = await ZkWireClient.ConnectAsync(silo.Port))
        {
            Assert.Equal(ErrorCode.Ok, (await writer.CreateAsync("/ro", [7])).Header.Err);
            Assert.Equal("rw", await FourLetterWord.AskAsync(silo.Port, "isro"));

            await fixture.Server.KillAsync();
            try
            {
                // A write that cannot be made durable tells the gateway, as the next check would.
                Assert.Equal(ErrorCode.SystemError, (await writer.CreateAsync("/ro/refused", [])).Header.Err);
                await WaitForAsync(silo.Port, "ro");

                // Knowingly read-only is ready: it serves the clients that allow it.
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{silo.AdminPort}"), Timeout = TimeSpan.FromSeconds(30) };
                Assert.Equal("ready, read-only\n", await http.GetStringAsync("/health/ready"));

                await using var reader = await ZkWireClient.ConnectAsync(silo.Port, readOnly: true);
                Assert.True(reader.Session!.ReadOnly);
                var (read, body) = await reader.RequestAsync(OpCode.GetData, w => new PathWatchRequest("/ro", false).Write(w));
                Assert.Equal(ErrorCode.Ok, read.Err);
                Assert.Equal([7], ZkWireClient.Decode(body, GetDataResponse.Read).Data);
                Assert.Equal(ErrorCode.NotReadOnly, (await reader.CreateAsync("/ro/child", [])).Header.Err);
                Assert.Equal(ErrorCode.NotReadOnly, (await reader.RequestAsync(OpCode.SetData, w => new SetDataRequest("/ro", [8], -1).Write(w))).Header.Err);

                // kazoo with read_only=True: connected read-only, reads, and its writes are refused.
                var kazoo = await ExternalCommand.RunAsync("/usr/bin/python3", ["-c", $"""
                    from kazoo.client import KazooClient
                    from kazoo.exceptions import NotReadOnlyCallError
                    zk = KazooClient(hosts="{silo.Hosts}", read_only=True)
                    zk.start(timeout=15)
                    print("state", zk.client_state)
                    print("data", zk.get("/ro")[0])
                    try:
                        zk.create("/ro/kazoo")
                    except NotReadOnlyCallError:
                        print("refused")
                    zk.stop()
                    """], TimeSpan.FromMinutes(1));
                Assert.True(kazoo.ExitCode == 0, kazoo.Output);
                Assert.Contains("state CONNECTED_RO", kazoo.Output, StringComparison.Ordinal);
                Assert.Contains("data b'\\x07'", kazoo.Output, StringComparison.Ordinal);
                Assert.Contains("refused", kazoo.Output, StringComparison.Ordinal);

                // A client that did not ask for read-only is not served a session it could not write with.
                await Assert.ThrowsAnyAsync<IOException>(() => ZkWireClient.ConnectAsync(silo.Port));
            }
            finally
            {
                await fixture.Server.StartAgainAsync();
            }
        }

        // The gateway tries storage again by itself: no write is needed to leave read-only mode.
        await WaitForAsync(silo.Port, "rw");
        await using var after = await ZkWireClient.ConnectAsync(silo.Port);
        Assert.False(after.Session!.ReadOnly);
        Assert.Equal(ErrorCode.Ok, (await after.CreateAsync("/ro/after", [])).Header.Err);
    }

    /// <summary>Asks isro until it answers as expected, within a bound: the gateway checks once a tick.</summary>
    private static async Task WaitForAsync(int port, string expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string answer;
        while ((answer = await FourLetterWord.AskAsync(port, "isro")) != expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(expected, answer);
    }
}
