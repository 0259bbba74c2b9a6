using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Protocol;

namespace OrleansCoord.Gateway.Dispatch;

/// <summary>
/// The replies to plain reads (exists, getData, getChildren, getChildren2) that subtree grains let this gateway keep,
/// so that a node read again is answered on the session's own silo without a grain call, as a ZooKeeper follower
/// answers from its own DataTree.
/// </summary>
/// <remarks>
/// A reply is kept only while the grain's read-cache watch for this gateway is armed on its node. Any change to the
/// node fires that watch, and the gateway drops the node before its watermark passes the change: so a node found here
/// is, at the watermark, as its replies show it. A reply fetched while its node was dropped (or the cache cleared) may
/// predate the change and is not kept, which each fetch checks by the entry it was started with. The nodes held bound
/// the read-cache watches this gateway arms, and the bytes held bound its memory: data lives in the subtree grains, and
/// a copy on every silo is kept for what is read, not for the whole tree.
/// </remarks>
public sealed class ReadCache(int maxNodes, long maxBytes)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _nodes = new(StringComparer.Ordinal);
    private long _bytes;

    /// <summary>One node's kept replies, by read type.</summary>
    public sealed class Entry
    {
        internal readonly ReadResult?[] Replies = new ReadResult?[4];

        internal Guid Incarnation;

        internal long Bytes;

        internal bool IsEmpty => Bytes == 0 && Array.TrueForAll(Replies, static r => r is null);
    }

    /// <summary>Bytes of the replies held.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Nodes held, including those whose first reply is still on its way.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _nodes.Count;
            }
        }
    }

    /// <summary>Reads answered from the cache.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    private long _hits;

    /// <summary>Whether replies to this read type can be kept.</summary>
    public static bool Caches(OpCode type) => Slot(type) >= 0;

    /// <summary>
    /// Finds a kept reply; otherwise gives the entry a reply fetched from now on may be kept in, or null when the cache
    /// holds as many nodes or bytes as it may (the read then asks the grain for nothing to keep).
    /// </summary>
    public bool TryGet(string path, OpCode type, out ReadResult reply, out Entry? fill)
    {
        lock (_lock)
        {
            if (_nodes.TryGetValue(path, out var entry))
            {
                if (entry.Replies[Slot(type)] is { } kept)
                {
                    reply = kept;
                    fill = null;
                    _hits++;
                    return true;
                }
            }
            else if (_nodes.Count < maxNodes && _bytes < maxBytes)
            {
                // A full cache asks for no new node: the grain would arm a watch for a reply that could not be kept.
                entry = new Entry();
                _nodes[path] = entry;
            }

            reply = default;
            fill = entry;
            return false;
        }
    }

    /// <summary>
    /// Keeps a reply fetched after <see cref="TryGet"/> gave <paramref name="fill"/>, if the node was not dropped since
    /// and the grain armed its watch; a reply it could not keep leaves no empty entry behind.
    /// </summary>
    public void Keep(string path, Entry fill, OpCode type, ReadResult reply)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(path, out var entry) || entry != fill)
            {
                return;
            }

            var slot = Slot(type);
            var growth = (reply.Body?.Length ?? 0) - (entry.Replies[slot]?.Body?.Length ?? 0);
            if (!reply.Cacheable || _bytes + growth > maxBytes)
            {
                if (entry.IsEmpty)
                {
                    _nodes.Remove(path);
                }

                return;
            }

            if (entry.Incarnation != Guid.Empty && entry.Incarnation != reply.Incarnation)
            {
                // Another incarnation of the grain answered: the watch of the one before went with it.
                Remove(path);
                return;
            }

            entry.Bytes += growth;
            _bytes += growth;
            entry.Incarnation = reply.Incarnation;
            entry.Replies[slot] = reply;
        }
    }

    /// <summary>Drops a node whose read-cache watch fired: it changed.</summary>
    public void Invalidate(string path)
    {
        lock (_lock)
        {
            Remove(path);
        }
    }

    /// <summary>Drops the nodes of subtrees whose grains came back as new incarnations, which hold none of this gateway's watches.</summary>
    public void Invalidate(IReadOnlyCollection<SubtreeIncarnation> lost)
    {
        if (lost.Count == 0)
        {
            return;
        }

        var keys = lost.Select(static l => l.Key).ToHashSet(StringComparer.Ordinal);
        lock (_lock)
        {
            foreach (var path in _nodes.Keys.Where(p => keys.Contains(SubtreePartitioner.KeyFor(p))).ToList())
            {
                Remove(path);
            }
        }
    }

    /// <summary>Drops everything, when changes may have gone by unseen.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _nodes.Clear();
            _bytes = 0;
        }
    }

    private void Remove(string path)
    {
        if (_nodes.Remove(path, out var entry))
        {
            _bytes -= entry.Bytes;
        }
    }

    private static int Slot(OpCode type) => type switch
    {
        OpCode.Exists => 0,
        OpCode.GetData => 1,
        OpCode.GetChildren => 2,
        OpCode.GetChildren2 => 3,
        _ => -1,
    };
}
