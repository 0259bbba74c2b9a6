using System.Buffers;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Security;
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

    public SubtreeGrain(IOptions<CoordinationOptions> options) => _skipAcl = options.Value.SkipAcl;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tree = new DataTree(this.GetPrimaryKeyString());

        // Until the durable log can rebuild a subtree, its activation is the only copy of the data.
        this.DelayDeactivation(TimeSpan.FromDays(3650));
        return Task.CompletedTask;
    }

    public Task<WatchEvent[]> Apply(ApplyItem[] items)
    {
        var fired = new List<WatchEvent>();
        foreach (var item in items)
        {
            _tree.Apply(item, fired);
        }

        return Task.FromResult(fired.ToArray());
    }

    public Task<ReadResult> Read(ReadCommand command)
    {
        var zxid = Math.Max(_tree.LastAppliedZxid, command.MinZxid);
        var path = command.Path;
        var node = _tree.Get(path);
        var output = new ArrayBufferWriter<byte>(128);
        var writer = new JuteWriter(output);
        switch (command.Type)
        {
            case OpCode.Exists:
                // exists leaves a watch even when the node is missing: it then waits for NodeCreated.
                if (command.Watch)
                {
                    _tree.Watches.AddDataWatch(path, command.Watcher);
                }

                if (node is null)
                {
                    return Bodiless(zxid, ErrorCode.NoNode);
                }

                node.Stat.Write(writer);
                break;
            case OpCode.GetData:
                if (node is null)
                {
                    return Bodiless(zxid, ErrorCode.NoNode);
                }

                if (!AclChecker.IsAllowed(node.Acl, command.AuthIds, Perms.Read, _skipAcl))
                {
                    return Bodiless(zxid, ErrorCode.NoAuth);
                }

                if (command.Watch)
                {
                    _tree.Watches.AddDataWatch(path, command.Watcher);
                }

                writer.WriteBuffer(node.Data);
                node.Stat.Write(writer);
                break;
            case OpCode.GetChildren or OpCode.GetChildren2:
                if (node is null)
                {
                    return Bodiless(zxid, ErrorCode.NoNode);
                }

                if (!AclChecker.IsAllowed(node.Acl, command.AuthIds, Perms.Read, _skipAcl))
                {
                    return Bodiless(zxid, ErrorCode.NoAuth);
                }

                if (command.Watch)
                {
                    _tree.Watches.AddChildWatch(path, command.Watcher);
                }

                var children = node.Children.ToList();
                children.Sort(StringComparer.Ordinal);
                writer.WriteStringList(children);
                if (command.Type == OpCode.GetChildren2)
                {
                    node.Stat.Write(writer);
                }

                break;
            case OpCode.GetAcl:
                if (node is null)
                {
                    return Bodiless(zxid, ErrorCode.NoNode);
                }

                if (!AclChecker.IsAllowed(node.Acl, command.AuthIds, Perms.Read | Perms.Admin, _skipAcl))
                {
                    return Bodiless(zxid, ErrorCode.NoAuth);
                }

                var acl = AclChecker.IsAllowed(node.Acl, command.AuthIds, Perms.Admin, _skipAcl) ? node.Acl : AclChecker.MaskDigests(node.Acl);
                Acl.WriteList(writer, acl);
                node.Stat.Write(writer);
                break;
            case OpCode.GetAllChildrenNumber:
                if (node is null)
                {
                    return Bodiless(zxid, ErrorCode.NoNode);
                }

                if (!AclChecker.IsAllowed(node.Acl, command.AuthIds, Perms.Read, _skipAcl))
                {
                    return Bodiless(zxid, ErrorCode.NoAuth);
                }

                writer.WriteInt(_tree.CountDescendants(path));
                break;
            case OpCode.CheckWatches:
                return Bodiless(zxid, _tree.Watches.Contains(path, command.Watcher, command.WatcherType) ? ErrorCode.Ok : ErrorCode.NoWatcher);
            case OpCode.RemoveWatches:
                return Bodiless(zxid, _tree.Watches.Remove(path, command.Watcher, command.WatcherType) ? ErrorCode.Ok : ErrorCode.NoWatcher);
            default:
                return Bodiless(zxid, ErrorCode.Unimplemented);
        }

        return Task.FromResult(new ReadResult(zxid, ErrorCode.Ok, output.WrittenSpan.ToArray()));
    }

    public Task<WatchEvent[]> SetWatches(Watcher watcher, long relativeZxid, string[] dataWatches, string[] existWatches, string[] childWatches)
    {
        // DataTree.setWatches: fire at once what changed while the client was away, re-arm the rest.
        var zxid = _tree.LastAppliedZxid;
        var fired = new List<WatchEvent>();
        foreach (var path in dataWatches)
        {
            var node = _tree.Get(path);
            if (node is null)
            {
                fired.Add(new WatchEvent(watcher, zxid, 0, EventType.NodeDeleted, path));
            }
            else if (node.Stat.Mzxid > relativeZxid)
            {
                fired.Add(new WatchEvent(watcher, zxid, 0, EventType.NodeDataChanged, path));
            }
            else
            {
                _tree.Watches.AddDataWatch(path, watcher);
            }
        }

        foreach (var path in existWatches)
        {
            if (_tree.Get(path) is not null)
            {
                fired.Add(new WatchEvent(watcher, zxid, 0, EventType.NodeCreated, path));
            }
            else
            {
                _tree.Watches.AddDataWatch(path, watcher);
            }
        }

        foreach (var path in childWatches)
        {
            var node = _tree.Get(path);
            if (node is null)
            {
                fired.Add(new WatchEvent(watcher, zxid, 0, EventType.NodeDeleted, path));
            }
            else if (node.Stat.Pzxid > relativeZxid)
            {
                fired.Add(new WatchEvent(watcher, zxid, 0, EventType.NodeChildrenChanged, path));
            }
            else
            {
                _tree.Watches.AddChildWatch(path, watcher);
            }
        }

        return Task.FromResult(fired.ToArray());
    }

    public Task RemoveWatcher(Watcher watcher)
    {
        _tree.Watches.Remove(watcher);
        return Task.CompletedTask;
    }

    public Task<SubtreeSummary> GetSummary() => Task.FromResult(new SubtreeSummary(_tree.NodeCount, _tree.Watches.Count, _tree.DataSize));

    /// <summary>A reply without a body: an error, or the bare OK of checkWatches and removeWatches.</summary>
    private static Task<ReadResult> Bodiless(long zxid, ErrorCode err) => Task.FromResult(new ReadResult(zxid, err, null));
}
