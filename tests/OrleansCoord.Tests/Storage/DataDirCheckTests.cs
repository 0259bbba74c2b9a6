using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Storage;

/// <summary>The data-directory check (check-datadir) on real files: what it reports of sound, torn and corrupt ones.</summary>
public sealed class DataDirCheckTests : IDisposable
{
    private readonly string _dir = SiloProcess.NewDataDir();

    private FileStorageOptions StorageOptions => new() { DataDir = _dir, PreAllocSizeKb = 16 };

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private async Task WriteLogAsync()
    {
        using var log = new FileTxnLog(Options.Create(StorageOptions), NullLogger<FileTxnLog>.Instance);
        await log.OpenAsync(0, _ => { }, CancellationToken.None);
        await log.AppendAsync([FileTxnLogTests.Create(1, "/a"), FileTxnLogTests.Create(2, "/b")], CancellationToken.None);
        log.Roll();
        await log.AppendAsync([FileTxnLogTests.Create(3, "/c", dataLength: 100)], CancellationToken.None);
    }

    private DataDirReport Check() => DataDirCheck.Run(StorageOptions, CancellationToken.None);

    [Fact]
    public async Task A_sound_directory_has_no_problems_and_reports_the_recovered_tree()
    {
        await WriteLogAsync();
        var report = Check();
        Assert.Empty(report.Problems());
        Assert.Equal([2L, 1], report.Segments.Select(s => s.Txns));
        Assert.All(report.Segments, s => Assert.True(s.Clean));
        Assert.Equal(new RecoveredSummary(3, BuiltInNodes.Initial.Count + 3, 0, 0, 120), report.Recovered);
    }

    [Fact]
    public async Task A_torn_last_record_and_corruption_before_it_are_told_apart()
    {
        await WriteLogAsync();
        var last = Check().Segments[^1];
        using (var file = File.OpenWrite(last.Path))
        {
            // A record header promising more than was written: a write cut short by a crash.
            file.Position = last.End;
            file.Write([0, 0, 0, 64, 1, 2, 3, 4, 5]);
        }

        var torn = Check();
        Assert.Equal(3, torn.Recovered.Zxid);
        Assert.Contains(torn.Problems(), p => p.Contains("torn at offset", StringComparison.Ordinal) && p.Contains(last.Path, StringComparison.Ordinal));

        var first = torn.Segments[0].Path;
        var bytes = File.ReadAllBytes(first);
        bytes[20] ^= 0x40;
        File.WriteAllBytes(first, bytes);
        var corrupt = Check();
        Assert.False(corrupt.Segments[0].Clean);
        Assert.Contains(corrupt.Problems(), p => p.Contains("refuses to start", StringComparison.Ordinal) && p.Contains(first, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_damaged_snapshot_is_reported_and_recovery_starts_from_the_one_before()
    {
        await WriteLogAsync();
        var store = new FileSnapshotStore(Options.Create(StorageOptions), NullLogger<FileSnapshotStore>.Instance);
        await store.SaveAsync(new TreeSnapshot(1, BuiltInNodes.Initial, []), CancellationToken.None);
        await store.SaveAsync(new TreeSnapshot(2, BuiltInNodes.Initial, []), CancellationToken.None);
        var newest = Directory.GetFiles(Path.Combine(_dir, "snapshots")).Max(StringComparer.Ordinal)!;
        var bytes = File.ReadAllBytes(newest);
        bytes[^10] ^= 0x01;
        File.WriteAllBytes(newest, bytes);

        var report = Check();
        Assert.Equal([null, "checksum mismatch"], report.Snapshots.Select(s => s.Damage));
        Assert.Single(report.Problems());

        // From the intact snapshot at zxid 1 (the built-in nodes), the log after it adds /b and /c.
        Assert.Equal(3, report.Recovered.Zxid);
        Assert.Equal(BuiltInNodes.Initial.Count + 2, report.Recovered.Nodes);
    }
}
