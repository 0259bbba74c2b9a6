using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Storage;

/// <summary>The standalone txn log on a real file system: replay, torn tails, corruption, purging, epochs.</summary>
public sealed class FileTxnLogTests : IDisposable
{
    private readonly string _dir = SiloProcess.NewDataDir();

    private string LogDir => Path.Combine(_dir, "txnlog");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private FileTxnLog NewLog(int preAllocKb = 16) =>
        new(Options.Create(new FileStorageOptions { DataDir = _dir, PreAllocSizeKb = preAllocKb }), NullLogger<FileTxnLog>.Instance);

    internal static Txn Create(long zxid, string path, int dataLength = 10) =>
        new(zxid, 0x1234, (int)zxid, 1000 + zxid, OpCode.Create,
            [
                new TreeChange(TreeChangeKind.Create, path, new NodeMeta(default(Stat) with { Czxid = zxid, Mzxid = zxid }, [.. Acl.OpenAclUnsafe]), new byte[dataLength]),
                new TreeChange(TreeChangeKind.ChildAdded, "/", new NodeMeta(default(Stat) with { Pzxid = zxid }, []), ChildPath: path),
            ]);

    private static List<Txn> Replay(FileTxnLog log, long after = 0)
    {
        var txns = new List<Txn>();
        _ = log.OpenAsync(after, txns.Add, CancellationToken.None).AsTask().Result;
        return txns;
    }

    private string[] Segments() => [.. Directory.GetFiles(LogDir, "log.*").Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Batches_replay_in_zxid_order_with_every_field_after_reopen()
    {
        using (var log = NewLog())
        {
            Assert.Empty(Replay(log));
            await log.AppendAsync([Create(1, "/a"), Create(2, "/b")], CancellationToken.None);
            await log.AppendAsync([Create(3, "/c") with { Type = OpCode.CreateSession, SessionTimeout = 4000, SessionPassword = [1, 2, 3] }], CancellationToken.None);
        }

        using var reopened = NewLog();
        var txns = Replay(reopened);
        Assert.Equal([1L, 2, 3], txns.Select(t => t.Zxid));
        Assert.Equal("/b", txns[1].Changes[0].Path);
        Assert.Equal("/b", txns[1].Changes[1].ChildPath);
        Assert.Equal(Acl.OpenAclUnsafe, txns[1].Changes[0].Meta.Acl);
        Assert.Equal(2, txns[1].Changes[0].Stat.Czxid);
        Assert.Equal(4000, txns[2].SessionTimeout);
        Assert.Equal([1, 2, 3], txns[2].SessionPassword);
        Assert.Equal([3L], Replay(reopened, after: 2).Select(t => t.Zxid));
    }

    [Fact]
    public async Task A_torn_tail_is_cut_never_served_and_never_appended_after()
    {
        using (var log = NewLog())
        {
            Replay(log);
            await log.AppendAsync([Create(1, "/a"), Create(2, "/b")], CancellationToken.None);
            await log.AppendAsync([Create(3, "/c")], CancellationToken.None);
        }

        // A crash part-way through the last write: the last record's payload is half there.
        var segment = Segments().Single();
        var bytes = File.ReadAllBytes(segment);
        var lastRecord = FindRecord(bytes, 2);
        var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(lastRecord));
        bytes.AsSpan(lastRecord + 8 + (length / 2), length - (length / 2)).Clear();
        File.WriteAllBytes(segment, bytes);

        using (var log = NewLog())
        {
            Assert.Equal([1L, 2], Replay(log).Select(t => t.Zxid));
            Assert.Equal(lastRecord, new FileInfo(segment).Length);

            // The zxid of the torn txn was never acknowledged, so it may be taken again.
            await log.AppendAsync([Create(3, "/d")], CancellationToken.None);
        }

        var txns = Replay(NewLog());
        Assert.Equal([1L, 2, 3], txns.Select(t => t.Zxid));
        Assert.Equal("/d", txns[2].Changes[0].Path);
        Assert.Equal(2, Segments().Length);
    }

    [Fact]
    public async Task Corruption_before_the_last_segment_refuses_recovery()
    {
        using (var log = NewLog())
        {
            Replay(log);
            await log.AppendAsync([Create(1, "/a")], CancellationToken.None);
            log.Roll();
            await log.AppendAsync([Create(2, "/b")], CancellationToken.None);
        }

        var first = Segments()[0];
        var bytes = File.ReadAllBytes(first);
        bytes[FindRecord(bytes, 0) + 12] ^= 0x40;
        File.WriteAllBytes(first, bytes);

        using var reopened = NewLog();
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => reopened.OpenAsync(0, _ => { }, CancellationToken.None).AsTask());
        Assert.Contains(Path.GetFileName(first), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_full_segment_rolls_over_and_purge_keeps_what_follows_the_zxid()
    {
        using (var log = NewLog(preAllocKb: 1))
        {
            Replay(log);
            for (var zxid = 1; zxid <= 12; zxid++)
            {
                await log.AppendAsync([Create(zxid, "/n" + zxid, dataLength: 300)], CancellationToken.None);
            }

            Assert.True(Segments().Length >= 4, $"{Segments().Length} segments");
            await log.PurgeThroughAsync(6, CancellationToken.None);
        }

        // Whatever went, everything after zxid 6 is still there, and a segment holding zxid 6 or less may stay.
        var left = Replay(NewLog()).Select(t => t.Zxid).ToList();
        Assert.Equal(Enumerable.Range(7, 6).Select(z => (long)z), left.Where(z => z > 6));
        Assert.True(left[0] > 1, "the oldest segments were purged");
        Assert.Equal(Enumerable.Range((int)left[0], left.Count).Select(z => (long)z), left);
    }

    [Fact]
    public async Task Epochs_grow_across_restarts_and_stay_above_logged_zxids()
    {
        using (var log = NewLog())
        {
            Replay(log);
            Assert.Equal(1, await log.AcquireEpochAsync(0, CancellationToken.None));
            await log.AppendAsync([Create((1L << 32) + 1, "/a")], CancellationToken.None);
        }

        using (var log = NewLog())
        {
            Replay(log);
            Assert.Equal(2, await log.AcquireEpochAsync(0, CancellationToken.None));
            Assert.Equal(8, await log.AcquireEpochAsync(7, CancellationToken.None));
        }

        // An epoch file lost with the log intact: the log's zxids still push the epoch above them.
        File.Delete(Path.Combine(LogDir, "currentEpoch"));
        using var last = NewLog();
        Replay(last);
        Assert.Equal(2, await last.AcquireEpochAsync(0, CancellationToken.None));
    }

    [Fact]
    public async Task Unused_preallocation_is_given_back_when_a_segment_is_done()
    {
        using (var log = NewLog(preAllocKb: 64))
        {
            Replay(log);
            await log.AppendAsync([Create(1, "/a")], CancellationToken.None);
            Assert.Equal(64 * 1024, new FileInfo(Segments().Single()).Length);
        }

        var segment = Segments().Single();
        var used = new FileInfo(segment).Length;
        Assert.True(used < 1024, $"a closed segment still holds {used} bytes");

        // A crash leaves the preallocated zeros behind; the next start trims them.
        using (var file = File.OpenHandle(segment, FileMode.Open, FileAccess.Write))
        {
            RandomAccess.SetLength(file, 64 * 1024);
        }

        Assert.Single(Replay(NewLog()));
        Assert.Equal(used, new FileInfo(segment).Length);
    }

    [Fact]
    public void A_second_log_on_the_same_directory_is_refused_until_the_first_is_gone()
    {
        using (var first = NewLog())
        {
            Replay(first);
            using var second = NewLog();
            var error = Assert.Throws<IOException>(() => Replay(second));
            Assert.Contains("in use by another server", error.Message, StringComparison.Ordinal);
        }

        using var after = NewLog();
        Assert.Empty(Replay(after));
    }

    [Fact]
    public async Task An_append_that_does_not_follow_the_last_zxid_is_refused()
    {
        using var log = NewLog();
        Replay(log);
        await log.AppendAsync([Create(5, "/a")], CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(() => log.AppendAsync([Create(5, "/b")], CancellationToken.None).AsTask());
    }

    /// <summary>The offset of the index-th record of a segment (header 8 bytes, records [len][crc][payload]).</summary>
    private static int FindRecord(byte[] segment, int index)
    {
        var offset = 8;
        for (var i = 0; i < index; i++)
        {
            offset += 8 + BinaryPrimitives.ReadInt32BigEndian(segment.AsSpan(offset));
        }

        return offset;
    }
}
