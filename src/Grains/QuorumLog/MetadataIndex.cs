using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Protocol;

namespace OrleansCoord.Grains.QuorumLog;

/// <summary>The whole tree's metadata, as the quorum-log grain validates writes against it.</summary>
public sealed class MetadataIndex
{
    private readonly Dictionary<string, NodeMeta> _nodes;
    private readonly Dictionary<string, NodeMeta>.AlternateLookup<ReadOnlySpan<char>> _nodesBySpan;

    public MetadataIndex()
    {
        _nodes = new(StringComparer.Ordinal);
        _nodesBySpan = _nodes.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _nodes.Count;

    /// <summary>The keys of the subtree grains that hold nodes, kept as nodes come and go so snapshots need not scan the tree.</summary>
    public HashSet<string> SubtreeKeys { get; } = new(StringComparer.Ordinal);

    /// <summary>Paths of container nodes, which the server deletes once their last child is gone.</summary>
    public HashSet<string> Containers { get; } = new(StringComparer.Ordinal);

    /// <summary>Paths of TTL nodes, which the server deletes once they have no children and outlived their TTL.</summary>
    public HashSet<string> Ttls { get; } = new(StringComparer.Ordinal);

    /// <summary>Sum of path and data lengths, as ZooKeeper's approximate_data_size counts them.</summary>
    public long ApproximateDataSize { get; private set; }

    public NodeMeta? Get(string path) => _nodes.GetValueOrDefault(path);

    /// <summary>The node at a path given as a slice, and its path as the index holds it.</summary>
    public NodeMeta? Get(ReadOnlySpan<char> path, out string? key) => _nodesBySpan.TryGetValue(path, out key, out var meta) ? meta : null;

    /// <summary>Every node's path and data length, for counting a new quota's usage.</summary>
    public IEnumerable<(string Path, long DataLength)> DataLengths() => _nodes.Select(static n => (n.Key, (long)n.Value.Stat.DataLength));

    public void Set(string path, NodeMeta? meta)
    {
        if (meta is not null)
        {
            // Most changes update a node that stays what it was (every create updates its parent): one lookup.
            ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_nodes, path);
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref slot) && slot.IsContainer == meta.IsContainer
                && EphemeralOwners.IsTtl(slot.Stat.EphemeralOwner) == EphemeralOwners.IsTtl(meta.Stat.EphemeralOwner))
            {
                ApproximateDataSize += meta.Stat.DataLength - slot.Stat.DataLength;
                slot = meta;
                return;
            }
        }

        if (_nodes.Remove(path, out var old))
        {
            ApproximateDataSize -= path.Length + old.Stat.DataLength;
            Containers.Remove(path);
            Ttls.Remove(path);
            if (SubtreePartitioner.IsKey(path))
            {
                SubtreeKeys.Remove(path);
            }
        }

        if (meta is not null)
        {
            _nodes[path] = meta;
            ApproximateDataSize += path.Length + meta.Stat.DataLength;
            if (SubtreePartitioner.IsKey(path))
            {
                SubtreeKeys.Add(path);
            }
            if (meta.IsContainer)
            {
                Containers.Add(path);
            }
            else if (EphemeralOwners.IsTtl(meta.Stat.EphemeralOwner))
            {
                Ttls.Add(path);
            }
        }
    }
}

/// <summary>
/// Changes validated but not yet folded into the index: ZooKeeper's outstanding changes. A multi validates
/// against it op by op and is either committed whole or dropped.
/// </summary>
public sealed class IndexOverlay
{
    private readonly MetadataIndex _index;
    private readonly Dictionary<string, NodeMeta?> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeMeta?>.AlternateLookup<ReadOnlySpan<char>> _pendingBySpan;

    public IndexOverlay(MetadataIndex index)
    {
        _index = index;
        _pendingBySpan = _pending.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public NodeMeta? Get(string path) => _pending.TryGetValue(path, out var meta) ? meta : _index.Get(path);

    /// <summary>
    /// The node at a path's parent, and the parent's path as a string the index or a pending change already holds:
    /// every create and delete looks its parent up, and would otherwise make that string each time.
    /// </summary>
    public NodeMeta? GetParent(string path, out string? parentPath)
    {
        var parent = PathValidation.ParentSpan(path);
        return _pendingBySpan.TryGetValue(parent, out parentPath, out var meta) ? meta : _index.Get(parent, out parentPath);
    }

    public void Set(string path, NodeMeta? meta) => _pending[path] = meta;

    public void Commit(SessionTracker sessions)
    {
        foreach (var (path, meta) in _pending)
        {
            var before = _index.Get(path);
            if (before is { Stat.EphemeralOwner: not 0 } && meta is null)
            {
                sessions.RemoveEphemeral(before.Stat.EphemeralOwner, path);
            }
            else if (before is null && meta is { Stat.EphemeralOwner: not 0 })
            {
                sessions.AddEphemeral(meta.Stat.EphemeralOwner, path);
            }

            _index.Set(path, meta);
        }

        _pending.Clear();
    }

    public void Rollback() => _pending.Clear();
}
