using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansCoord.Grains.Storage;

/// <summary>
/// Snapshots as files <c>snapshot.&lt;zxid&gt;</c> in dataDir (<see cref="SnapshotCodec"/>), written beside the
/// target and renamed into place once durable.
/// </summary>
public sealed partial class FileSnapshotStore(IOptions<FileStorageOptions> options, ILogger<FileSnapshotStore> logger) : ISnapshotStore
{
    private const string Prefix = "snapshot.";

    private string Directory => Path.Combine(options.Value.DataDir, "snapshots");

    public async Task SaveAsync(SnapshotContent snapshot, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = ZxidFileNames.Name(Directory, Prefix, snapshot.Zxid);
        var temp = path + ".tmp";
        long nodes;
        await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            nodes = await SnapshotCodec.WriteAsync(snapshot, file, cancellationToken);

            // Writing the chunks only copied them into the page cache. Waiting for the disk can take as long as a
            // large snapshot needs to reach it: on a thread of its own, so the thread pool keeps serving meanwhile.
            await Task.Factory.StartNew(
                () =>
                {
                    file.Flush(flushToDisk: true);
                    file.Close();
                    File.Move(temp, path, overwrite: true);
                    NativeFile.SyncDirectory(Directory);
                },
                cancellationToken,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        LogSaved(logger, path, nodes);
    }

    public Task<TreeSnapshot?> LoadLatestAsync(CancellationToken cancellationToken)
    {
        // A snapshot being written when the server died never got its name; nothing will finish it.
        if (System.IO.Directory.Exists(Directory))
        {
            foreach (var unfinished in System.IO.Directory.EnumerateFiles(Directory, Prefix + "*.tmp"))
            {
                File.Delete(unfinished);
            }
        }

        var snapshots = ZxidFileNames.List(Directory, Prefix);
        for (var i = snapshots.Count - 1; i >= 0; i--)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (zxid, path) = snapshots[i];
            try
            {
                return Task.FromResult<TreeSnapshot?>(SnapshotCodec.Read(File.ReadAllBytes(path), zxid));
            }
            catch (InvalidDataException ex)
            {
                // ZooKeeper too falls back to an older snapshot; the log from there covers the difference.
                LogSkipped(logger, path, ex.Message);
            }
        }

        return Task.FromResult<TreeSnapshot?>(null);
    }

    public Task<long?> PurgeAsync(int retain, CancellationToken cancellationToken)
    {
        var snapshots = ZxidFileNames.List(Directory, Prefix);
        for (var i = 0; i < snapshots.Count - retain; i++)
        {
            File.Delete(snapshots[i].Path);
            LogPurged(logger, snapshots[i].Path);
        }

        return Task.FromResult<long?>(snapshots.Count == 0 ? null : snapshots[Math.Max(0, snapshots.Count - retain)].Zxid);
    }

    [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "Snapshot {Path} written with {NodeCount} znodes")]
    private static partial void LogSaved(ILogger logger, string path, long nodeCount);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Warning, Message = "Snapshot {Path} is unusable ({Reason}); trying an older one")]
    private static partial void LogSkipped(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Information, Message = "Purged snapshot {Path}")]
    private static partial void LogPurged(ILogger logger, string path);
}
