using OrleansCoord.Grains.Abstractions;

namespace OrleansCoord.Grains.Storage;

/// <summary>The durable, ordered txn log the quorum-log grain group-commits to (ZooKeeper's txn log).</summary>
public interface ITxnLog
{
    /// <summary>The epoch this log hands the current writer; zxids are epoch &lt;&lt; 32 | counter.</summary>
    ValueTask<long> AcquireEpochAsync(CancellationToken cancellationToken);

    /// <summary>Makes a batch durable as one unit (one fsync or one transaction), in zxid order.</summary>
    ValueTask AppendAsync(IReadOnlyList<Txn> batch, CancellationToken cancellationToken);

    /// <summary>Every txn after the given zxid, in zxid order, for recovery.</summary>
    IAsyncEnumerable<Txn> ReadAfterAsync(long zxid, CancellationToken cancellationToken);
}
