namespace OrleansCoord.Grains.Storage;

/// <summary>An append from an activation whose epoch a newer activation has taken over; it must stop writing.</summary>
public sealed class TxnLogFencedException(long epoch, long current)
    : Exception($"the txn log is held by epoch {current}; this writer's epoch {epoch} may no longer append")
{
}
