using OrleansCoord.Grains.Abstractions;

namespace OrleansCoord.Grains.Storage;

/// <summary>The durable, ordered txn log the quorum-log grain group-commits to (ZooKeeper's txn log).</summary>
public interface ITxnLog
{
    /// <summary>
    /// Replays every valid txn after <paramref name="afterZxid"/> in zxid order, cuts a torn tail so that it
    /// is never served, and readies the log for appending. Returns the last valid zxid (or afterZxid).
    /// Also the way back after a failed append.
    /// </summary>
    ValueTask<long> OpenAsync(long afterZxid, Action<Txn> replay, CancellationToken cancellationToken);

    /// <summary>
    /// Replays every valid txn after <paramref name="afterZxid"/> in zxid order without changing the log, while
    /// the writer may be appending. Returns the last zxid replayed (or afterZxid).
    /// </summary>
    ValueTask<long> ReadAsync(long afterZxid, Action<Txn> replay, CancellationToken cancellationToken);

    /// <summary>Takes the next epoch, above <paramref name="atLeast"/>, durably; zxids are epoch &lt;&lt; 32 | counter.</summary>
    ValueTask<long> AcquireEpochAsync(long atLeast, CancellationToken cancellationToken);

    /// <summary>Makes a batch durable as one unit (one fdatasync or one transaction), in zxid order.</summary>
    ValueTask AppendAsync(IReadOnlyList<Txn> batch, CancellationToken cancellationToken);

    /// <summary>Starts a new segment with the next append (where the log has segments), so a snapshot's predecessors can be purged whole.</summary>
    void Roll();

    /// <summary>Deletes what the log holds through <paramref name="zxid"/> (whole segments only, where it has them).</summary>
    Task PurgeThroughAsync(long zxid, CancellationToken cancellationToken);
}
