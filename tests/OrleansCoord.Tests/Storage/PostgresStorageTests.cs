using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Grains.Storage.Postgres;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Storage;

/// <summary>The cluster storage on a real PostgreSQL server: replay, epoch fencing, snapshots.</summary>
public sealed class PostgresStorageTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    private static Txn SetData(long zxid, string path) =>
        new(zxid, 0x42, (int)zxid, 1000, OpCode.SetData, [new TreeChange(TreeChangeKind.SetData, path, new NodeMeta(default(Stat) with { Mzxid = zxid, Version = 1 }, []), [1, 2, 3])]);

    private static async Task<List<Txn>> ReplayAsync(PostgresTxnLog log, long after = 0)
    {
        var txns = new List<Txn>();
        await log.OpenAsync(after, txns.Add, CancellationToken.None);
        return txns;
    }

    [Fact]
    public async Task Batches_replay_in_zxid_order_after_reopen()
    {
        await using var source = NpgsqlDataSource.Create(await fixture.Server.CreateDatabaseAsync());
        {
            var log = new PostgresTxnLog(source);
            Assert.Empty(await ReplayAsync(log));
            var epoch = await log.AcquireEpochAsync(0, CancellationToken.None);
            await log.AppendAsync([SetData((epoch << 32) + 1, "/a"), SetData((epoch << 32) + 2, "/b")], CancellationToken.None);
            await log.AppendAsync([SetData((epoch << 32) + 3, "/c")], CancellationToken.None);
        }

        var reopened = new PostgresTxnLog(source);
        var txns = await ReplayAsync(reopened);
        Assert.Equal(["/a", "/b", "/c"], txns.Select(t => t.Changes[0].Path));
        Assert.Equal([1, 2, 3], txns[2].Changes[0].Data);
        Assert.Single(await ReplayAsync(reopened, txns[1].Zxid));
        Assert.True(await reopened.AcquireEpochAsync(0, CancellationToken.None) > txns[^1].Zxid >> 32);
    }

    [Fact]
    public async Task An_older_activation_can_no_longer_append_once_a_newer_one_took_an_epoch()
    {
        // Two activations on two silos: each its own connection pool to the one database.
        var db = await fixture.Server.CreateDatabaseAsync();
        await using var oldSilo = NpgsqlDataSource.Create(db);
        await using var newSilo = NpgsqlDataSource.Create(db);
        var old = new PostgresTxnLog(oldSilo);
        var successor = new PostgresTxnLog(newSilo);
        await ReplayAsync(old);
        var oldEpoch = await old.AcquireEpochAsync(0, CancellationToken.None);
        await old.AppendAsync([SetData((oldEpoch << 32) + 1, "/before")], CancellationToken.None);

        await ReplayAsync(successor);
        var newEpoch = await successor.AcquireEpochAsync(0, CancellationToken.None);
        Assert.True(newEpoch > oldEpoch);

        var fenced = await Assert.ThrowsAsync<TxnLogFencedException>(() => old.AppendAsync([SetData((oldEpoch << 32) + 2, "/stale")], CancellationToken.None).AsTask());
        Assert.Contains($"epoch {newEpoch}", fenced.Message, StringComparison.Ordinal);
        await successor.AppendAsync([SetData((newEpoch << 32) + 1, "/after")], CancellationToken.None);

        Assert.Equal(["/before", "/after"], (await ReplayAsync(new PostgresTxnLog(newSilo))).Select(t => t.Changes[0].Path));
    }

    [Fact]
    public async Task Snapshots_round_trip_fall_back_past_damage_and_purge()
    {
        var db = await fixture.Server.CreateDatabaseAsync();
        await using var source = NpgsqlDataSource.Create(db);
        var store = new PostgresSnapshotStore(source, NullLogger<PostgresSnapshotStore>.Instance);
        Assert.Null(await store.LoadLatestAsync(CancellationToken.None));
        foreach (var zxid in new long[] { 10, 20, 30, 40 })
        {
            await store.SaveAsync(new TreeSnapshot(zxid, [new SnapshotNode("/n", [(byte)zxid], [.. Acl.OpenAclUnsafe], default(Stat) with { Mzxid = zxid }, false)], [new SnapshotSession(7, 5000, [1])]), CancellationToken.None);
        }

        var latest = await store.LoadLatestAsync(CancellationToken.None);
        Assert.Equal((40L, (byte)40), (latest!.Zxid, latest.Nodes[0].Data![0]));

        await using (var connection = new NpgsqlConnection(db))
        {
            await connection.OpenAsync();
            await using var damage = new NpgsqlCommand("UPDATE oc_snapshot SET image = substring(image from 1 for 30) WHERE zxid = 40", connection);
            await damage.ExecuteNonQueryAsync();
        }

        Assert.Equal(30, (await store.LoadLatestAsync(CancellationToken.None))?.Zxid);
        Assert.Equal(20, await store.PurgeAsync(3, CancellationToken.None));
        await new PostgresTxnLog(source).PurgeThroughAsync(20, CancellationToken.None);
    }
}
