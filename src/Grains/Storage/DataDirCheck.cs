using OrleansCoord.Grains.QuorumLog;
using OrleansCoord.Protocol;

namespace OrleansCoord.Grains.Storage;

/// <summary>One txn log segment as the data-directory check found it: End is where reading stopped.</summary>
public sealed record TxnLogSegment(string Path, long NamedZxid, long Txns, long LastZxid, long End, long Length, bool Clean);

/// <summary>One snapshot file: its zxid and contents when it reads back intact, or why not.</summary>
public sealed record SnapshotCheck(string Path, long Zxid, int Nodes, int Sessions, string? Damage);

/// <summary>The tree a restart would recover: the newest intact snapshot plus the log after it.</summary>
public sealed record RecoveredSummary(long Zxid, int Nodes, int Ephemerals, int Sessions, long DataBytes);

/// <summary>What <see cref="DataDirCheck"/> found, and whether a server could start from it without losing anything it logged.</summary>
public sealed record DataDirReport(IReadOnlyList<SnapshotCheck> Snapshots, IReadOnlyList<TxnLogSegment> Segments, RecoveredSummary Recovered)
{
    /// <summary>
    /// Problems a restart would refuse or hide: damage before the last segment, a last segment cut short (a crash
    /// mid-write, which recovery cuts off), or no intact snapshot while older ones are damaged.
    /// </summary>
    public IEnumerable<string> Problems()
    {
        for (var i = 0; i < Segments.Count; i++)
        {
            var segment = Segments[i];
            if (!segment.Clean)
            {
                yield return i < Segments.Count - 1
                    ? $"{segment.Path}: unreadable at offset {segment.End} with segments after it; a server refuses to start"
                    : $"{segment.Path}: torn at offset {segment.End} (a write cut short by a crash); recovery cuts it off there";
            }
        }

        foreach (var snapshot in Snapshots.Where(s => s.Damage is not null))
        {
            yield return $"{snapshot.Path}: {snapshot.Damage}";
        }
    }
}

/// <summary>
/// Checks a standalone server's dataDir and dataLogDir without changing them: every snapshot's CRC-32C and
/// zxid, every txn record's CRC-32C and zxid order, and the tree recovery would build from them.
/// </summary>
public static class DataDirCheck
{
    public static DataDirReport Run(FileStorageOptions options, CancellationToken cancellationToken)
    {
        var snapshots = new List<SnapshotCheck>();
        TreeSnapshot? latest = null;
        foreach (var (zxid, path) in ZxidFileNames.List(Path.Combine(options.DataDir, "snapshots"), "snapshot."))
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var snapshot = SnapshotCodec.Read(File.ReadAllBytes(path), zxid);
                snapshots.Add(new SnapshotCheck(path, zxid, snapshot.Nodes.Count, snapshot.Sessions.Count, null));
                latest = snapshot;
            }
            catch (InvalidDataException ex)
            {
                snapshots.Add(new SnapshotCheck(path, zxid, 0, 0, ex.Message));
            }
        }

        var tree = RecoveredTree.From(latest);
        var segments = FileTxnLog.Inspect(options.LogDirectory, txn =>
        {
            if (txn.Zxid > tree.Zxid)
            {
                tree.Replay(txn);
            }
        });
        // Only a server with extended types on writes TTL owners, so any found are TTL nodes, not ephemerals.
        var ephemerals = tree.Nodes.Values.Count(n => EphemeralOwners.IsSession(n.Stat.EphemeralOwner, extendedTypes: true));
        var bytes = tree.Nodes.Values.Sum(n => (long)(n.Data?.Length ?? 0));
        return new DataDirReport(snapshots, segments, new RecoveredSummary(tree.Zxid, tree.Nodes.Count, ephemerals, tree.Sessions.Count, bytes));
    }
}
