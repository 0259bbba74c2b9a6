using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Protocol;

namespace OrleansCoord.Grains.Tree;

/// <summary>
/// The watches of a subtree by path, as ZooKeeper 3.9's two watch managers keep them: data watches (getData,
/// exists) and child watches, each standard (one-shot) or persistent (addWatch mode 0, which sits in both), and
/// persistent recursive watches (addWatch mode 1), which also see the data events of every node below their path.
/// </summary>
public sealed class WatchManager
{
    private readonly Dictionary<string, Dictionary<Watcher, WatchModes>> _dataWatches = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<Watcher, WatchModes>> _childWatches = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<Watcher>> _recursiveWatches = new(StringComparer.Ordinal);

    // Gateways whose read caches hold replies about a node, by path; not client watches, so not counted in Count.
    private readonly Dictionary<string, List<int>> _readCaches = new(StringComparer.Ordinal);

    [Flags]
    private enum WatchModes : byte
    {
        None = 0,
        Standard = 1,
        Persistent = 2,
    }

    /// <summary>Watches held, counted per table, path and watcher as ZooKeeper counts them.</summary>
    public int Count { get; private set; }

    public void AddDataWatch(string path, Watcher watcher) => Add(_dataWatches, path, watcher, WatchModes.Standard);

    public void AddChildWatch(string path, Watcher watcher) => Add(_childWatches, path, watcher, WatchModes.Standard);

    /// <summary>addWatch mode 0: every event on the path itself, until removed.</summary>
    public void AddPersistentWatch(string path, Watcher watcher)
    {
        Add(_dataWatches, path, watcher, WatchModes.Persistent);
        Add(_childWatches, path, watcher, WatchModes.Persistent);
    }

    /// <summary>addWatch mode 1: created, deleted and data-changed events on the path and below it, until removed.</summary>
    public void AddRecursiveWatch(string path, Watcher watcher)
    {
        if (!_recursiveWatches.TryGetValue(path, out var set))
        {
            set = [];
            _recursiveWatches[path] = set;
        }

        if (set.Add(watcher))
        {
            Count++;
        }
    }

    /// <summary>Arms a gateway's read-cache watch on a path, which the next change of the node, of any kind, fires.</summary>
    public void AddReadCacheWatch(string path, int gatewayId)
    {
        if (!_readCaches.TryGetValue(path, out var gateways))
        {
            gateways = new List<int>(1);
            _readCaches[path] = gateways;
        }

        if (!gateways.Contains(gatewayId))
        {
            gateways.Add(gatewayId);
        }
    }

    /// <summary>
    /// Fires the read-cache watches on a path, for any change to the node: ZooKeeper fires no client watch for a
    /// setACL, but the node's replies hold its aversion and who may read it.
    /// </summary>
    public void TriggerReadCaches(string path, long zxid, int order, List<WatchEvent> fired)
    {
        if (_readCaches.Count == 0 || !_readCaches.Remove(path, out var gateways))
        {
            return;
        }

        foreach (var gatewayId in gateways)
        {
            fired.Add(new WatchEvent(Watcher.ReadCacheOf(gatewayId), zxid, order, EventType.None, path));
        }
    }

    /// <summary>
    /// Fires the watches an event triggers, removing the one-shot ones; a watcher that several watches match gets
    /// one event. Recursive watches never see NodeChildrenChanged, as in ZooKeeper.
    /// </summary>
    public void Trigger(string path, EventType type, long zxid, int order, List<WatchEvent> fired)
    {
        var firing = new Firing(fired, new WatchEvent(default, zxid, order, type, path));
        if (type != EventType.NodeChildrenChanged)
        {
            Fire(_dataWatches, path, ref firing);
            if (_recursiveWatches.Count > 0)
            {
                for (var at = path; ; at = PathValidation.Parent(at))
                {
                    if (_recursiveWatches.TryGetValue(at, out var set))
                    {
                        firing.NextSource();
                        foreach (var watcher in set)
                        {
                            firing.Add(watcher);
                        }
                    }

                    if (at == "/")
                    {
                        break;
                    }
                }
            }
        }

        if (type is EventType.NodeChildrenChanged or EventType.NodeDeleted)
        {
            firing.NextSource();
            Fire(_childWatches, path, ref firing);
        }
    }

    /// <summary>The data watches (getData, exists, persistent and recursive) of one gateway's connections, by path, as wchc and wchp list them.</summary>
    public List<PathWatch> DataWatchesOf(int gatewayId)
    {
        var watches = new List<PathWatch>();
        foreach (var (path, set) in _dataWatches)
        {
            foreach (var watcher in set.Keys)
            {
                if (watcher.GatewayId == gatewayId)
                {
                    watches.Add(new PathWatch(path, watcher));
                }
            }
        }

        foreach (var (path, set) in _recursiveWatches)
        {
            foreach (var watcher in set)
            {
                if (watcher.GatewayId == gatewayId && !Has(_dataWatches, path, watcher, WatchModes.Standard | WatchModes.Persistent))
                {
                    watches.Add(new PathWatch(path, watcher));
                }
            }
        }

        return watches;
    }

    /// <summary>Whether the watcher holds a watch of this type on the path (checkWatches, as ZooKeeper 3.9 answers it).</summary>
    public bool Contains(string path, Watcher watcher, WatcherType type) => type switch
    {
        WatcherType.Children => Has(_childWatches, path, watcher, WatchModes.Standard),
        WatcherType.Data => Has(_dataWatches, path, watcher, WatchModes.Standard),
        WatcherType.Persistent => Has(_dataWatches, path, watcher, WatchModes.Persistent),
        WatcherType.PersistentRecursive => HasRecursive(path, watcher),
        _ => Has(_childWatches, path, watcher, WatchModes.Standard | WatchModes.Persistent)
            || Has(_dataWatches, path, watcher, WatchModes.Standard | WatchModes.Persistent)
            || HasRecursive(path, watcher),
    };

    /// <summary>Removes the watcher's watches of this type on the path; false when there were none (removeWatches).</summary>
    public bool Remove(string path, Watcher watcher, WatcherType type)
    {
        switch (type)
        {
            case WatcherType.Children:
                return Strip(_childWatches, path, watcher, WatchModes.Standard);
            case WatcherType.Data:
                return Strip(_dataWatches, path, watcher, WatchModes.Standard);
            case WatcherType.Persistent:
                return Strip(_childWatches, path, watcher, WatchModes.Persistent) | Strip(_dataWatches, path, watcher, WatchModes.Persistent);
            case WatcherType.PersistentRecursive:
                return RemoveRecursive(path, watcher);
            default:
                var all = WatchModes.Standard | WatchModes.Persistent;
                return Strip(_childWatches, path, watcher, all) | Strip(_dataWatches, path, watcher, all) | RemoveRecursive(path, watcher);
        }
    }

    /// <summary>Forgets every watch of a connection that has closed.</summary>
    public void Remove(Watcher watcher)
    {
        Count -= RemoveFrom(_dataWatches, watcher) + RemoveFrom(_childWatches, watcher);
        List<string>? empty = null;
        foreach (var (path, set) in _recursiveWatches)
        {
            if (set.Remove(watcher))
            {
                Count--;
                if (set.Count == 0)
                {
                    (empty ??= []).Add(path);
                }
            }
        }

        foreach (var path in empty ?? [])
        {
            _recursiveWatches.Remove(path);
        }
    }

    private static bool Has(Dictionary<string, Dictionary<Watcher, WatchModes>> table, string path, Watcher watcher, WatchModes modes) =>
        table.TryGetValue(path, out var set) && set.TryGetValue(watcher, out var held) && (held & modes) != 0;

    private bool HasRecursive(string path, Watcher watcher) => _recursiveWatches.TryGetValue(path, out var set) && set.Contains(watcher);

    private void Add(Dictionary<string, Dictionary<Watcher, WatchModes>> table, string path, Watcher watcher, WatchModes mode)
    {
        if (!table.TryGetValue(path, out var set))
        {
            set = [];
            table[path] = set;
        }

        set.TryGetValue(watcher, out var held);
        if (held == WatchModes.None)
        {
            Count++;
        }

        set[watcher] = held | mode;
    }

    /// <summary>Takes modes off the watcher's watch on a path, dropping the watch when none is left; whether any was held.</summary>
    private bool Strip(Dictionary<string, Dictionary<Watcher, WatchModes>> table, string path, Watcher watcher, WatchModes modes)
    {
        if (!table.TryGetValue(path, out var set) || !set.TryGetValue(watcher, out var held) || (held & modes) == 0)
        {
            return false;
        }

        var left = held & ~modes;
        if (left != WatchModes.None)
        {
            set[watcher] = left;
            return true;
        }

        set.Remove(watcher);
        Count--;
        if (set.Count == 0)
        {
            table.Remove(path);
        }

        return true;
    }

    private bool RemoveRecursive(string path, Watcher watcher)
    {
        if (!_recursiveWatches.TryGetValue(path, out var set) || !set.Remove(watcher))
        {
            return false;
        }

        Count--;
        if (set.Count == 0)
        {
            _recursiveWatches.Remove(path);
        }

        return true;
    }

    /// <summary>Fires every watch on the path in one table; one-shot ones go, persistent ones stay.</summary>
    private void Fire(Dictionary<string, Dictionary<Watcher, WatchModes>> table, string path, ref Firing firing)
    {
        if (!table.TryGetValue(path, out var set))
        {
            return;
        }

        List<Watcher>? spent = null;
        foreach (var (watcher, held) in set)
        {
            firing.Add(watcher);
            if ((held & WatchModes.Standard) != 0)
            {
                (spent ??= []).Add(watcher);
            }
        }

        if (spent?.Count == set.Count && set.Values.All(static held => held == WatchModes.Standard))
        {
            // Only one-shot watches here, the usual case: they all go at once.
            table.Remove(path);
            Count -= set.Count;
            return;
        }

        foreach (var watcher in spent ?? [])
        {
            Strip(table, path, watcher, WatchModes.Standard);
        }
    }

    private static int RemoveFrom(Dictionary<string, Dictionary<Watcher, WatchModes>> table, Watcher watcher)
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

        foreach (var path in empty ?? [])
        {
            table.Remove(path);
        }

        return removed;
    }

    /// <summary>The events one change fires: at most one per watcher, however many of its watches match.</summary>
    private struct Firing(List<WatchEvent> fired, WatchEvent template)
    {
        private readonly int _start = fired.Count;
        private bool _dedup;
        private HashSet<Watcher>? _seen;

        /// <summary>Watchers from here on may already have fired through another watch.</summary>
        public void NextSource() => _dedup = fired.Count > _start;

        public void Add(Watcher watcher)
        {
            // Within one table's path a watcher is there once; only a second source can repeat it.
            if (_dedup && _seen is null)
            {
                _seen = [];
                for (var i = _start; i < fired.Count; i++)
                {
                    _seen.Add(fired[i].Watcher);
                }
            }

            if (_seen is null || _seen.Add(watcher))
            {
                fired.Add(template with { Watcher = watcher });
            }
        }
    }
}
