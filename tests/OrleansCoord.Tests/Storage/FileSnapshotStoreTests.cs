using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Storage;

/// <summary>Snapshots on a real file system: round trip, falling back past a damaged one, purging.</summary>
public sealed class FileSnapshotStoreTests : IDisposable
{
    private readonly string _dir = SiloProcess.NewDataDir();

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private FileSnapshotStore NewStore() =>
        new(Options.Create(new FileStorageOptions { DataDir = _dir }), NullLogger<FileSnapshotStore>.Instance);

    private static TreeSnapshot Snapshot(long zxid, int nodes) => new(
        zxid,
        [.. Enumerable.Range(0, nodes).Select(i => new SnapshotNode($"/n{i}", i % 3 == 0 ? null : new byte[i], [.. Acl.OpenAclUnsafe], default(Stat) with { Czxid = i, DataLength = i, EphemeralOwner = i % 2 }, i % 5 == 0))],
        [new SnapshotSession(0x77, 6000, [9, 8, 7])]);

    [Fact]
    public async Task A_snapshot_reads_back_as_written()
    {
        var store = NewStore();
        Assert.Null(await store.LoadLatestAsync(CancellationToken.None));

        // Enough nodes that the writer flushes several times.
        var written = Snapshot(0x100000005, 30000);
        await store.SaveAsync(written, CancellationToken.None);
        var read = await NewStore().LoadLatestAsync(CancellationToken.None);

        Assert.NotNull(read);
        Assert.Equal(written.Zxid, read.Zxid);
        Assert.Equal(written.Nodes.Count, read.Nodes.Count);
        for (var i = 0; i < written.Nodes.Count; i += 997)
        {
            var (a, b) = (written.Nodes[i], read.Nodes[i]);
            Assert.Equal((a.Path, a.Stat, a.IsContainer), (b.Path, b.Stat, b.IsContainer));
            Assert.Equal(a.Data, b.Data);
            Assert.Equal(a.Acl, b.Acl);
        }

        Assert.Equal((0x77L, 6000), (read.Sessions[0].SessionId, read.Sessions[0].TimeoutMs));
        Assert.Equal([9, 8, 7], read.Sessions[0].Password);
    }

    [Fact]
    public async Task A_damaged_newest_snapshot_falls_back_to_the_one_before()
    {
        var store = NewStore();
        await store.SaveAsync(Snapshot(10, 5), CancellationToken.None);
        await store.SaveAsync(Snapshot(20, 6), CancellationToken.None);
        var newest = Directory.GetFiles(Path.Combine(_dir, "snapshots"), "snapshot.*").Max(StringComparer.Ordinal)!;
        var bytes = File.ReadAllBytes(newest);
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(newest, bytes);

        // A snapshot cut off mid-write by a crash is never read and is cleared away.
        var unfinished = Path.Combine(_dir, "snapshots", "snapshot.0000000000000030.tmp");
        await File.WriteAllBytesAsync(unfinished, [1, 2, 3]);

        var read = await NewStore().LoadLatestAsync(CancellationToken.None);
        Assert.Equal(10, read?.Zxid);
        Assert.Equal(5, read?.Nodes.Count);
        Assert.False(File.Exists(unfinished));
    }

    [Fact]
    public async Task Purge_keeps_the_newest_and_names_the_oldest_kept()
    {
        var store = NewStore();
        foreach (var zxid in new long[] { 5, 10, 15, 20, 25 })
        {
            await store.SaveAsync(Snapshot(zxid, 1), CancellationToken.None);
        }

        Assert.Equal(15, await store.PurgeAsync(3, CancellationToken.None));
        Assert.Equal(3, Directory.GetFiles(Path.Combine(_dir, "snapshots"), "snapshot.*").Length);
        Assert.Equal(25, (await store.LoadLatestAsync(CancellationToken.None))?.Zxid);
    }
}
