using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansCoord.Tests.Durability;

/// <summary>A silo whose txn log and snapshots are in a real PostgreSQL server: crashes of either side.</summary>
public sealed class PostgresDurabilityTests(PostgresFixture fixture, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    private async Task<string[]> PostgresArgsAsync() =>
        ["--storage", "postgres", "--postgres.connectionString", await fixture.Server.CreateDatabaseAsync(), "--snapCount", "50"];

    [Fact]
    public async Task Every_acknowledged_write_survives_kill_9_of_the_silo()
    {
        var dataDir = SiloProcess.NewDataDir();
        try
        {
            await CrashRecoveryTests.RunCrashRoundsAsync(dataDir, await PostgresArgsAsync(), rounds: 4, seed: 4242, output);
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task While_PostgreSQL_is_down_writes_are_refused_and_reads_go_on_and_writes_resume_when_it_is_back()
    {
        await using var silo = await SiloProcess.StartAsync(await PostgresArgsAsync());
        await using var client = await ZkWireClient.ConnectAsync(silo.Port, timeoutMs: 10000);
        await using var watcher = await ZkWireClient.ConnectAsync(silo.Port, timeoutMs: 10000);
        Assert.Equal(ErrorCode.Ok, (await client.CreateAsync("/pg", [1])).Header.Err);
        var (watchHeader, _) = await watcher.RequestAsync(OpCode.GetData, w => new PathWatchRequest("/pg", true).Write(w));
        Assert.Equal(ErrorCode.Ok, watchHeader.Err);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{silo.AdminPort}"), Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        await fixture.Server.KillAsync();
        try
        {
            var (refused, _) = await client.CreateAsync("/pg/during", [2]);
            Assert.Equal(ErrorCode.SystemError, refused.Err);

            // Without read-only mode, a gateway whose writes cannot be ordered is not ready; it stays live.
            await HttpStatusAsync(http, "/health/ready", System.Net.HttpStatusCode.ServiceUnavailable);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
            var (read, body) = await client.RequestAsync(OpCode.GetData, w => new PathWatchRequest("/pg", false).Write(w));
            Assert.Equal(ErrorCode.Ok, read.Err);
            Assert.Equal([1], ZkWireClient.Decode(body, GetDataResponse.Read).Data);
        }
        finally
        {
            await fixture.Server.StartAgainAsync();
        }

        // The first write after PostgreSQL is back repairs the quorum-log grain; no restart of anything.
        var started = DateTime.UtcNow;
        ReplyHeader header;
        var attempts = 0;
        do
        {
            attempts++;
            (header, _) = await client.RequestAsync(OpCode.SetData, w => new SetDataRequest("/pg", [3], -1).Write(w));
        }
        while (header.Err != ErrorCode.Ok && DateTime.UtcNow - started < TimeSpan.FromSeconds(60));

        Assert.Equal(ErrorCode.Ok, header.Err);
        await HttpStatusAsync(http, "/health/ready", System.Net.HttpStatusCode.OK);
        output.WriteLine($"writes resumed after {attempts} attempts, {(DateTime.UtcNow - started).TotalMilliseconds:F0} ms after PostgreSQL was back");

        // The session and the watch set before the outage both survived it.
        var (e, _) = await watcher.Events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal((EventType.NodeDataChanged, "/pg"), (e.Type, e.Path));
        var (missing, _) = await client.RequestAsync(OpCode.Exists, w => new PathWatchRequest("/pg/during", false).Write(w));
        Assert.Equal(ErrorCode.NoNode, missing.Err);
    }

    /// <summary>Asks until the endpoint answers with the status, within a bound: the gateway checks once a tick.</summary>
    private static async Task HttpStatusAsync(HttpClient http, string path, System.Net.HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        System.Net.HttpStatusCode status;
        while ((status = (await http.GetAsync(path)).StatusCode) != expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(expected, status);
    }
}
