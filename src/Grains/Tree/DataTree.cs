using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;

namespace OrleansCoord.Grains.Tree;

/// <summary>The znodes of one subtree and their watches: applies committed changes and fires watches.</summary>
public sealed class DataTree
{
    // Child lists of nodes read with getChildren, encoded as replies carry them, until their children change:
    // parents are read far more often than their children change (service discovery, locks, queues).
    private const long MaxCachedChildListBytes = 16 << 20;

    private readonly Dictionary<string, DataNode> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _childLists = new(StringComparer.Ordinal);
    private long _cachedChildListBytes;
    private string? _lastCreatedPath;

    public WatchManager Watches { get; } = new();

    /// <summary>Recent deletions of nodes held here, and of top-level nodes in the root's subtree.</summary>
    public DeletionLog Deletions { get; } = new();

    /// <summary>The zxid of the last change applied here.</summary>
    public long LastAppliedZxid { get; private set; }

    public int NodeCount => _nodes.Count;

    public long DataSize { get; private set; }

    public DataNode? Get(string path) => _nodes.TryGetValue(path, out var node) ? node : null;

    // Changes update the node in its table slot.
    private ref DataNode Find(string path) => ref CollectionsMarshal.GetValueRefOrNullRef(_nodes, path);

    /// <summary>Descendants of a path held in this subtree (all of them, for any path but "/").</summary>
    public int CountDescendants(string path)
    {
        var prefix = path + "/";
        var count = 0;
        foreach (var key in _nodes.Keys)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// Replaces every node with what recovery rebuilt, keeping the watches. Children of a node live in the same
    /// subtree, except those of "/", whose names the caller passes.
    /// </summary>
    public void Load(long zxid, IReadOnlyList<SnapshotNode> nodes, IReadOnlyList<string> rootChildren)
    {
        _nodes.Clear();
        _childLists.Clear();
        _cachedChildListBytes = 0;
        DataSize = 0;
        foreach (var node in nodes)
        {
            _nodes[node.Path] = new DataNode(node.Meta, node.Data);
            DataSize += node.Path.Length + (node.Data?.Length ?? 0);
        }

        foreach (var path in _nodes.Keys)
        {
            if (path != "/")
            {
                ref var parent = ref Find(PathValidation.Parent(path));
                if (!Unsafe.IsNullRef(ref parent))
                {
                    parent.AddChild(path);
                }
            }
        }

        ref var root = ref Find("/");
        if (!Unsafe.IsNullRef(ref root))
        {
            foreach (var name in rootChildren)
            {
                root.AddChild(PathValidation.Combine("/", name));
            }
        }

        LastAppliedZxid = zxid;
        Deletions.Reset(zxid);
    }

    /// <summary>A node's child names, sorted and jute-encoded as getChildren replies carry them.</summary>
    public byte[] EncodedChildren(string path, in DataNode node)
    {
        if (_childLists.TryGetValue(path, out var encoded))
        {
            return encoded;
        }

        var children = node.ChildNames.ToList();
        children.Sort(StringComparer.Ordinal);
        var output = new ArrayBufferWriter<byte>();
        new JuteWriter(output).WriteStringList(children);
        encoded = output.WrittenSpan.ToArray();
        if (_cachedChildListBytes + encoded.Length <= MaxCachedChildListBytes)
        {
            _childLists[path] = encoded;
            _cachedChildListBytes += encoded.Length;
        }

        return encoded;
    }

    private void ForgetChildList(string path)
    {
        if (_childLists.Remove(path, out var encoded))
        {
            _cachedChildListBytes -= encoded.Length;
        }
    }

    /// <summary>
    /// Every node as of now, for a snapshot to go through, in blocks of <see cref="NodeBlockSize"/>: the export writes
    /// from the copies, without looking each path up again in a table of millions, and a copy of the whole table at
    /// once would be a large-object-heap array per snapshot, each of which brings a full collection of such a heap nearer.
    /// </summary>
    public List<KeyValuePair<string, DataNode>[]> CopyNodes() => [.. _nodes.Chunk(NodeBlockSize)];

    /// <summary>Nodes per block of <see cref="CopyNodes"/>: 64 KiB of path and node references, under the large-object threshold.</summary>
    public const int NodeBlockSize = 2048;

    public void Apply(ApplyItem item, List<WatchEvent> fired)
    {
        var change = item.Change;
        var path = change.Path;
        switch (change.Kind)
        {
            case TreeChangeKind.Create:
                _nodes[path] = new DataNode(change.Meta, change.Data);
                _lastCreatedPath = path;
                DataSize += path.Length + (change.Data?.Length ?? 0);
                Watches.Trigger(path, EventType.NodeCreated, item.Zxid, item.Order, fired);
                break;
            case TreeChangeKind.Delete:
                ForgetChildList(path);
                if (_nodes.Remove(path, out var removed))
                {
                    DataSize -= path.Length + (removed.Data?.Length ?? 0);
                }

                Deletions.Record(path, item.Zxid);
                Watches.Trigger(path, EventType.NodeDeleted, item.Zxid, item.Order, fired);
                break;
            case TreeChangeKind.SetData:
                ref var node = ref Find(path);
                if (!Unsafe.IsNullRef(ref node))
                {
                    DataSize += (change.Data?.Length ?? 0) - (node.Data?.Length ?? 0);
                    node.Data = change.Data;
                    node.Meta = change.Meta;
                }

                Watches.Trigger(path, EventType.NodeDataChanged, item.Zxid, item.Order, fired);
                break;
            case TreeChangeKind.SetAcl:
                node = ref Find(path);
                if (!Unsafe.IsNullRef(ref node))
                {
                    node.Meta = change.Meta;
                }

                break;
            case TreeChangeKind.ChildAdded or TreeChangeKind.ChildRemoved:
                ForgetChildList(path);
                node = ref Find(path);
                if (!Unsafe.IsNullRef(ref node))
                {
                    var child = change.ChildPath!;
                    if (change.Kind == TreeChangeKind.ChildAdded)
                    {
                        // A child held here was created by the change before this one; a change that crossed silos
                        // carries a copy of its path, and the parent keeps the string the tree keys the child by.
                        node.AddChild(child == _lastCreatedPath ? _lastCreatedPath : child);
                    }
                    else
                    {
                        node.RemoveChild(child);
                        if (path == "/")
                        {
                            // A top-level node lives in a subtree of its own, which may go with it: the root keeps its deletion too.
                            Deletions.Record(child, item.Zxid);
                        }
                    }

                    node.Meta = change.Meta;
                }

                Watches.Trigger(path, EventType.NodeChildrenChanged, item.Zxid, item.Order, fired);
                break;
        }

        Watches.TriggerReadCaches(path, item.Zxid, item.Order, fired);
        if (item.Zxid > LastAppliedZxid)
        {
            LastAppliedZxid = item.Zxid;
        }
    }

    /// <summary>
    /// The events a persistent watch on a path (recursive: on it and every node below) would have fired for changes
    /// after relativeZxid and up to upTo, as far as the current state and the deletion log tell: a node created
    /// since gives NodeCreated, one changed since NodeDataChanged, one deleted since NodeDeleted, and (not recursive)
    /// a node whose children changed since NodeChildrenChanged; each tagged with its change's zxid, by which the
    /// gateway orders what all subtrees report.
    /// </summary>
    public void ChangesSince(string path, bool recursive, long relativeZxid, long upTo, Watcher watcher, List<WatchEvent> missed)
    {
        void Add(long zxid, EventType type, string at)
        {
            if (zxid > relativeZxid && zxid <= upTo)
            {
                missed.Add(new WatchEvent(watcher, zxid, 0, type, at));
            }
        }

        void AddNode(string at, in DataNode node)
        {
            if (node.Stat.Czxid > relativeZxid)
            {
                Add(node.Stat.Czxid, EventType.NodeCreated, at);
            }
            else
            {
                Add(node.Stat.Mzxid, EventType.NodeDataChanged, at);
            }
        }

        if (!recursive)
        {
            if (Get(path) is { } node)
            {
                AddNode(path, node);
                Add(node.Stat.Pzxid, EventType.NodeChildrenChanged, path);
            }
        }
        else
        {
            foreach (var (at, node) in _nodes)
            {
                if (PathValidation.IsAtOrBelow(at, path))
                {
                    AddNode(at, node);
                }
            }
        }

        foreach (var (at, zxid) in Deletions.After(relativeZxid))
        {
            if (recursive ? PathValidation.IsAtOrBelow(at, path) : at == path)
            {
                Add(zxid, EventType.NodeDeleted, at);
            }
        }
    }
}
