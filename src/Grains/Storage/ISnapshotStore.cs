namespace OrleansCoord.Grains.Storage;

/// <summary>Where snapshots of the tree and session table are kept (ZooKeeper's FileSnap).</summary>
public interface ISnapshotStore
{
    /// <summary>Writes a snapshot durably; a crash part-way leaves the previous ones as they were.</summary>
    Task SaveAsync(SnapshotContent snapshot, CancellationToken cancellationToken);

    /// <summary>The newest snapshot that reads back intact, or null when there is none.</summary>
    Task<TreeSnapshot?> LoadLatestAsync(CancellationToken cancellationToken);

    /// <summary>Keeps the newest <paramref name="retain"/> snapshots and returns the zxid of the oldest one kept (or null).</summary>
    Task<long?> PurgeAsync(int retain, CancellationToken cancellationToken);
}

/// <summary>Saving a snapshot held whole in memory, as migration has it.</summary>
public static class SnapshotStoreExtensions
{
    public static Task SaveAsync(this ISnapshotStore store, TreeSnapshot snapshot, CancellationToken cancellationToken) =>
        store.SaveAsync(SnapshotContent.Of(snapshot), cancellationToken);
}
