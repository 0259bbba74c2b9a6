using System.Buffers;
using Orleans.Concurrency;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Security;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;
using Microsoft.Extensions.Options;
using OrleansCoord.Grains.Hosting;

namespace OrleansCoord.Grains.Tree;

/// <summary>Holds one subtree of znodes in memory; see <see cref="ISubtreeGrain"/>.</summary>
public sealed class SubtreeGrain : Grain, ISubtreeGrain
{
    private readonly bool _skipAcl;
    private DataTree _tree = null!;

    // A fresh activation knows nothing until the quorum-log grain loads it.
    private bool _loaded;

    // Tells this activation from earlier ones of the same subtree, whose watches died with them.
    private readonly Guid _incarnation = Guid.NewGuid();

    // Changes at or below the zxid a load brought are already in; an apply retried after a reload skips them.
    private long _loadedThrough;

    // The snapshot export under way and the nodes it goes through.
    private (Guid Id, List<KeyValuePair<string, DataNode>[]> Nodes, int Count) _export = (Guid.Empty, [], 0);

    public SubtreeGrain(IOptions<CoordinationOptions> options) => _skipAcl = options.Value.SkipAcl;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tree = new DataTree();

        // Reloading a subtree means reading storage, so an activation lives as long as its silo.
        this.DelayDeactivation(TimeSpan.FromDays(3650));
        return Task.CompletedTask;
    }

    public Task<AppliedBatch> Apply(Immutable<ApplyItem[]> items, Immutable<OrderedRead[]> reads)
    {
        ThrowIfNotLoaded();
        var (changes, ordered) = (items.Value, reads.Value);
        var fired = new List<WatchEvent>();
        var results = ordered.Length == 0 ? [] : new ReadResult[ordered.Length];
        var next = 0;
        for (var i = 0; i < changes.Length; i++)
        {
            for (; next < ordered.Length && ordered[next].Before == i; next++)
            {
                results[next] = ServeInOrder(ordered[next].Command);
            }

            if (changes[i].Zxid > _loadedThrough)
            {
                _tree.Apply(changes[i], fired);
            }
        }

        for (; next < ordered.Length; next++)
        {
            results[next] = ServeInOrder(ordered[next].Command);
        }

        return Task.FromResult(new AppliedBatch([.. fired], results));
    }

    /// <summary>
    /// Serves a read at its place among a batch's changes (its MinZxid). An activation reloaded from storage during the
    /// batch may already hold later changes, which the read must not see: it gets CONNECTIONLOSS, and its client
    /// reconnects and reads again, as after any failure of the silos.
    /// </summary>
    private ReadResult ServeInOrder(ReadCommand command) =>
        _tree.LastAppliedZxid > command.MinZxid ? Bodiless(_tree.LastAppliedZxid, ErrorCode.ConnectionLoss) : Serve(command);

    public Task<Guid?> Load(long zxid, SnapshotNode[] nodes, string[] rootChildren)
    {
        var fresh = !_loaded;
        _tree.Load(zxid, nodes, rootChildren);
        _loaded = true;
        _loadedThrough = zxid;
        return Task.FromResult<Guid?>(fresh ? _incarnation : null);
    }

    public Task<SnapshotChunk> Export(Guid export, int from)
    {
        ThrowIfNotLoaded();

        // The nodes as of the export's first call, so changes applied after the snapshot's zxid may show (a node
        // deleted since among them), which replaying the log from there puts right.
        if (from == 0)
        {
            _export = (export, _tree.CopyNodes(), _tree.NodeCount);
        }
        else if (_export.Id != export)
        {
            throw new InvalidOperationException($"snapshot export {export} was superseded by {_export.Id}");
        }

        var (_, nodes, count) = _export;
        var chunk = new SnapshotChunkBuilder();
        var next = from;
        for (; next < count && !chunk.IsFull; next++)
        {
            var (path, node) = nodes[next / DataTree.NodeBlockSize][next % DataTree.NodeBlockSize];
            chunk.Add(path, node.Data, node.Meta);
        }

        if (next == count)
        {
            _export = (Guid.Empty, [], 0);
            next = -1;
        }

        return Task.FromResult(chunk.ToChunk(next));
    }

    public Task<ReadResult> Read(ReadCommand command)
    {
        ThrowIfNotLoaded();
        var result = Serve(command);
        if (command.ForCache && IsForEveryone(command, result))
        {
            _tree.Watches.AddReadCacheWatch(command.Path, command.Watcher.GatewayId);
            result = result with { Cacheable = true };
        }

        return Task.FromResult(result);
    }

    /// <summary>
    /// Whether every session would get this reply: a missing node, exists (which checks no ACL), or a node that anyone
    /// may read. Other replies depend on who asks, and a gateway's cache serves every session.
    /// </summary>
    private bool IsForEveryone(ReadCommand command, ReadResult result) =>
        !command.Watch && command.Type is OpCode.Exists or OpCode.GetData or OpCode.GetChildren or OpCode.GetChildren2 && result.Err switch
        {
            ErrorCode.NoNode => true,
            ErrorCode.Ok => command.Type == OpCode.Exists || AclChecker.IsAllowed(_tree.Get(command.Path)?.Acl, [], Perms.Read, _skipAcl),
            _ => false,
        };

    private ReadResult Serve(ReadCommand command)
    {
        var zxid = Math.Max(_tree.LastAppliedZxid, command.MinZxid);
        var path = command.Path;
        var found = _tree.Get(path);
        var node = found.GetValueOrDefault();
        switch (command.Type)
        {
            case OpCode.Exists:
                // exists leaves a watch even when the node is missing: it then waits for NodeCreated.
                if (command.Watch)
                {
                    _tree.Watches.AddDataWatch(path, command.Watcher);
                }

                return found is null ? Bodiless(zxid, ErrorCode.NoNode) : Reply(zxid, node.Stat.ForClient().Write);
            case OpCode.GetData:
                return Readable(found, command, Perms.Read) is { } dataError
                    ? Bodiless(zxid, dataError)
                    : Reply(zxid, w =>
                    {
                        if (command.Watch)
                        {
                            _tree.Watches.AddDataWatch(path, command.Watcher);
                        }

                        w.WriteBuffer(node.Data);
                        node.Stat.ForClient().Write(w);
                    });
            case OpCode.GetChildren or OpCode.GetChildren2:
                return Readable(found, command, Perms.Read) is { } childrenError
                    ? Bodiless(zxid, childrenError)
                    : Reply(zxid, w =>
                    {
                        if (command.Watch)
                        {
                            _tree.Watches.AddChildWatch(path, command.Watcher);
                        }

                        w.WriteRaw(_tree.EncodedChildren(path, node));
                        if (command.Type == OpCode.GetChildren2)
                        {
                            node.Stat.ForClient().Write(w);
                        }
                    });
            case OpCode.GetAcl:
                return Readable(found, command, Perms.Read | Perms.Admin) is { } aclError
                    ? Bodiless(zxid, aclError)
                    : Reply(zxid, w =>
                    {
                        var admin = AclChecker.IsAllowed(node.Acl, command.AuthIds, Perms.Admin, _skipAcl);
                        Acl.WriteList(w, admin ? node.Acl : AclChecker.MaskDigests(node.Acl));
                        node.Stat.ForClient().Write(w);
                    });
            case OpCode.GetAllChildrenNumber:
                return Readable(found, command, Perms.Read) is { } countError
                    ? Bodiless(zxid, countError)
                    : Reply(zxid, w => w.WriteInt(_tree.CountDescendants(path)));
            case OpCode.AddWatch:
                // As ZooKeeper: no node or permission is needed to watch a path.
                if (command.WatcherType == WatcherType.PersistentRecursive)
                {
                    _tree.Watches.AddRecursiveWatch(path, command.Watcher);
                }
                else
                {
                    _tree.Watches.AddPersistentWatch(path, command.Watcher);
                }

                return Reply(zxid, static w => w.WriteInt(0));
            case OpCode.CheckWatches:
                return Bodiless(zxid, _tree.Watches.Contains(path, command.Watcher, command.WatcherType) ? ErrorCode.Ok : ErrorCode.NoWatcher);
            case OpCode.RemoveWatches:
                return Bodiless(zxid, _tree.Watches.Remove(path, command.Watcher, command.WatcherType) ? ErrorCode.Ok : ErrorCode.NoWatcher);
            default:
                return Bodiless(zxid, ErrorCode.Unimplemented);
        }
    }

    public Task<SetWatchesResult> SetWatches(Watcher watcher, long relativeZxid, WatchPaths paths)
    {
        ThrowIfNotLoaded();

        // DataTree.setWatches: fire at once what changed while the client was away, re-arm the rest.
        var zxid = _tree.LastAppliedZxid;
        var fired = new List<WatchEvent>();
        foreach (var path in paths.Data)
        {
            Rearm(path, _tree.Get(path) is { } node ? (node.Stat.Mzxid > relativeZxid ? EventType.NodeDataChanged : null) : EventType.NodeDeleted, _tree.Watches.AddDataWatch);
        }

        foreach (var path in paths.Exist)
        {
            Rearm(path, _tree.Get(path) is not null ? EventType.NodeCreated : null, _tree.Watches.AddDataWatch);
        }

        foreach (var path in paths.Child)
        {
            Rearm(path, _tree.Get(path) is { } node ? (node.Stat.Pzxid > relativeZxid ? EventType.NodeChildrenChanged : null) : EventType.NodeDeleted, _tree.Watches.AddChildWatch);
        }

        // Persistent watches stay armed. ZooKeeper fires nothing for what they missed; the events are hints, so
        // telling what changed meanwhile only closes a gap.
        foreach (var path in paths.Persistent)
        {
            _tree.Watches.AddPersistentWatch(path, watcher);
            _tree.ChangesSince(path, recursive: false, relativeZxid, long.MaxValue, watcher, fired);
        }

        foreach (var path in paths.Recursive)
        {
            _tree.Watches.AddRecursiveWatch(path, watcher);
            _tree.ChangesSince(path, recursive: true, relativeZxid, long.MaxValue, watcher, fired);
        }

        return Task.FromResult(new SetWatchesResult([.. fired], _incarnation));

        void Rearm(string path, EventType? missed, Action<string, Watcher> add)
        {
            if (missed is { } type)
            {
                fired.Add(new WatchEvent(watcher, zxid, 0, type, path));
            }
            else
            {
                add(path, watcher);
            }
        }
    }

    public Task<WatchEvent[]> ChangesBelow(Watcher watcher, string path, long relativeZxid, long upTo)
    {
        ThrowIfNotLoaded();
        var missed = new List<WatchEvent>();
        _tree.ChangesSince(path, recursive: true, relativeZxid, upTo, watcher, missed);
        return Task.FromResult(missed.ToArray());
    }

    public Task RemoveWatcher(Watcher watcher)
    {
        _tree.Watches.Remove(watcher);
        return Task.CompletedTask;
    }

    public Task<SubtreeSummary> GetSummary()
    {
        ThrowIfNotLoaded();
        return Task.FromResult(new SubtreeSummary(_tree.NodeCount, _tree.Watches.Count, _tree.DataSize));
    }

    public Task<PathWatch[]> GetDataWatches(int gatewayId)
    {
        ThrowIfNotLoaded();
        return Task.FromResult(_tree.Watches.DataWatchesOf(gatewayId).ToArray());
    }

    private void ThrowIfNotLoaded()
    {
        if (!_loaded)
        {
            throw new SubtreeNotLoadedException(this.GetPrimaryKeyString());
        }
    }

    /// <summary>NONODE or NOAUTH as ZooKeeper checks them for a read, or null when the read may go ahead.</summary>
    private ErrorCode? Readable(DataNode? node, ReadCommand command, Perms perm) =>
        node is not { } found ? ErrorCode.NoNode
        : !AclChecker.IsAllowed(found.Acl, command.AuthIds, perm, _skipAcl) ? ErrorCode.NoAuth
        : null;

    private ReadResult Reply(long zxid, Action<JuteWriter> write)
    {
        var output = new ArrayBufferWriter<byte>(128);
        write(new JuteWriter(output));
        return new ReadResult(zxid, ErrorCode.Ok, output.WrittenSpan.ToArray(), _incarnation);
    }

    /// <summary>A reply without a body: an error, or the bare OK of checkWatches and removeWatches.</summary>
    private ReadResult Bodiless(long zxid, ErrorCode err) => new(zxid, err, null, _incarnation);
}
