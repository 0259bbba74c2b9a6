using System.Runtime.CompilerServices;
using OrleansCoord.Grains.Abstractions;

namespace OrleansCoord.Grains.Storage;

/// <summary>A txn log that lives only as long as the process: the stand-in until the file and PostgreSQL logs.</summary>
public sealed class InMemoryTxnLog : ITxnLog
{
    private readonly List<Txn> _txns = [];
    private readonly Lock _lock = new();
    private long _epoch;

    public ValueTask<long> AcquireEpochAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(++_epoch);
        }
    }

    public ValueTask AppendAsync(IReadOnlyList<Txn> batch, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_txns.Count > 0 && batch.Count > 0 && batch[0].Zxid <= _txns[^1].Zxid)
            {
                throw new InvalidOperationException($"zxid 0x{batch[0].Zxid:x} does not follow 0x{_txns[^1].Zxid:x}");
            }

            _txns.AddRange(batch);
        }

        return ValueTask.CompletedTask;
    }

    public async IAsyncEnumerable<Txn> ReadAfterAsync(long zxid, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Txn[] snapshot;
        lock (_lock)
        {
            snapshot = [.. _txns];
        }

        foreach (var txn in snapshot)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (txn.Zxid > zxid)
            {
                yield return txn;
            }
        }

        await Task.CompletedTask;
    }
}
