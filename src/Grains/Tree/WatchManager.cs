using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Protocol;

namespace OrleansCoord.Grains.Tree;

/// <summary>One-shot watches of a subtree by path: data watches (getData, exists) and child watches.</summary>
public sealed class WatchManager
{
    private readonly Dictionary<string, HashSet<Watcher>> _dataWatches = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<Watcher>> _childWatches = new(StringComparer.Ordinal);

    public int Count { get; private set; }

    public void AddDataWatch(string path, Watcher watcher) => Add(_dataWatches, path, watcher);

    public void AddChildWatch(string path, Watcher watcher) => Add(_childWatches, path, watcher);

    /// <summary>Fires and removes the watches an event triggers; a watcher in both tables gets one event.</summary>
    public void Trigger(string path, EventType type, long zxid, int order, List<WatchEvent> fired)
    {
        var start = fired.Count;
        if (type != EventType.NodeChildrenChanged)
        {
            Fire(_dataWatches, path, type, zxid, order, fired, start);
        }

        if (type is EventType.NodeChildrenChanged or EventType.NodeDeleted)
        {
            Fire(_childWatches, path, type, zxid, order, fired, start);
        }
    }

    /// <summary>The data watches (getData and exists) of one gateway's connections, by path, as wchc and wchp list them.</summary>
    public List<PathWatch> DataWatchesOf(int gatewayId)
    {
        var watches = new List<PathWatch>();
        foreach (var (path, set) in _dataWatches)
        {
            foreach (var watcher in set)
            {
                if (watcher.GatewayId == gatewayId)
                {
                    watches.Add(new PathWatch(path, watcher));
                }
            }
        }

        return watches;
    }

    /// <summary>Whether the watcher holds a watch of this type on the path (checkWatches).</summary>
    public bool Contains(string path, Watcher watcher, WatcherType type) =>
        (type is WatcherType.Data or WatcherType.Any && Has(_dataWatches, path, watcher))
        || (type is WatcherType.Children or WatcherType.Any && Has(_childWatches, path, watcher));

    /// <summary>Removes the watcher's watches of this type on the path; false when there were none (removeWatches).</summary>
    public bool Remove(string path, Watcher watcher, WatcherType type)
    {
        var removed = false;
        if (type is WatcherType.Data or WatcherType.Any)
        {
            removed |= RemoveOne(_dataWatches, path, watcher);
        }

        if (type is WatcherType.Children or WatcherType.Any)
        {
            removed |= RemoveOne(_childWatches, path, watcher);
        }

        return removed;
    }

    private static bool Has(Dictionary<string, HashSet<Watcher>> table, string path, Watcher watcher) =>
        table.TryGetValue(path, out var set) && set.Contains(watcher);

    private bool RemoveOne(Dictionary<string, HashSet<Watcher>> table, string path, Watcher watcher)
    {
        if (!table.TryGetValue(path, out var set) || !set.Remove(watcher))
        {
            return false;
        }

        Count--;
        if (set.Count == 0)
        {
            table.Remove(path);
        }

        return true;
    }

    public void Remove(Watcher watcher)
    {
        Count -= RemoveFrom(_dataWatches, watcher) + RemoveFrom(_childWatches, watcher);
    }

    private void Add(Dictionary<string, HashSet<Watcher>> table, string path, Watcher watcher)
    {
        if (!table.TryGetValue(path, out var set))
        {
            set = [];
            table[path] = set;
        }

        if (set.Add(watcher))
        {
            Count++;
        }
    }

    private void Fire(Dictionary<string, HashSet<Watcher>> table, string path, EventType type, long zxid, int order, List<WatchEvent> fired, int start)
    {
        if (!table.Remove(path, out var set))
        {
            return;
        }

        Count -= set.Count;
        foreach (var watcher in set)
        {
            var duplicate = false;
            for (var i = start; i < fired.Count; i++)
            {
                if (fired[i].Watcher == watcher)
                {
                    duplicate = true;
                    break;
                }
            }

            if (!duplicate)
            {
                fired.Add(new WatchEvent(watcher, zxid, order, type, path));
            }
        }
    }

    private static int RemoveFrom(Dictionary<string, HashSet<Watcher>> table, Watcher watcher)
    {
        var removed = 0;
        List<string>? empty = null;
        foreach (var (path, set) in table)
        {
            if (set.Remove(watcher))
            {
                removed++;
                if (set.Count == 0)
                {
                    (empty ??= []).Add(path);
                }
            }
        }

        if (empty is not null)
        {
            foreach (var path in empty)
            {
                table.Remove(path);
            }
        }

        return removed;
    }
}
