namespace OrleansCoord.Grains.Tree;

/// <summary>
/// The latest deletions of a subtree (path and zxid), so that a persistent watch set again on reconnect can be
/// told which nodes went while its session was away. It keeps a bounded number; <see cref="CompleteAfter"/>
/// says from which zxid on it still holds every one.
/// </summary>
public sealed class DeletionLog(int capacity = DeletionLog.DefaultCapacity)
{
    public const int DefaultCapacity = 10_000;

    private readonly Queue<(string Path, long Zxid)> _deletions = new();

    /// <summary>Every deletion with a larger zxid is here; older ones may have been dropped, or predate the subtree's load.</summary>
    public long CompleteAfter { get; private set; }

    /// <summary>Starts over after a load: deletions before it are unknown.</summary>
    public void Reset(long zxid)
    {
        _deletions.Clear();
        CompleteAfter = zxid;
    }

    public void Record(string path, long zxid)
    {
        if (_deletions.Count == capacity)
        {
            CompleteAfter = _deletions.Dequeue().Zxid;
        }

        _deletions.Enqueue((path, zxid));
    }

    /// <summary>The deletions after a zxid, oldest first.</summary>
    public IEnumerable<(string Path, long Zxid)> After(long zxid) => _deletions.Where(d => d.Zxid > zxid);
}
