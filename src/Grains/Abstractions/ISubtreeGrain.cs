using Orleans.Concurrency;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Abstractions;

/// <summary>
/// Owns one part of the znode tree (data, stats, ACLs, children and watches), applies committed changes
/// in zxid order and serves reads. The key is the subtree's root path (see SubtreePartitioner). Until the
/// quorum-log grain loads an activation, it answers every call but Load and RemoveWatcher with
/// <see cref="SubtreeNotLoadedException"/>.
/// </summary>
public interface ISubtreeGrain : IGrainWithStringKey
{
    /// <summary>
    /// Applies committed changes in zxid order, serving each read where it stands among them; returns the watch events
    /// the changes fired and the reads' results. The arrays are handed over without a copy (the caller drops them).
    /// </summary>
    Task<AppliedBatch> Apply(Immutable<ApplyItem[]> items, Immutable<OrderedRead[]> reads);

    /// <summary>
    /// Replaces the subtree with what recovery rebuilt as of zxid; the root's grain is told the top-level names.
    /// Returns this activation's incarnation when it was fresh (watches set in earlier ones are gone), else null.
    /// </summary>
    Task<Guid?> Load(long zxid, SnapshotNode[] nodes, string[] rootChildren);

    /// <summary>
    /// The subtree's nodes for a snapshot, a chunk per call: <paramref name="from"/> is 0 to start an export (which
    /// supersedes any other) and then the previous chunk's Next. Changes applied after the caller's zxid may show,
    /// and applies and reads run between the calls, so a large subtree never stalls them.
    /// </summary>
    Task<SnapshotChunk> Export(Guid export, int from);

    /// <summary>Serves exists, getData, getChildren, getChildren2, getACL, getAllChildrenNumber, addWatch, checkWatches and removeWatches.</summary>
    Task<ReadResult> Read(ReadCommand command);

    /// <summary>
    /// Re-arms watches after a reconnect; fires at once the one-shot watches whose nodes changed after relativeZxid,
    /// and for persistent ones the events they missed since then.
    /// </summary>
    Task<SetWatchesResult> SetWatches(Watcher watcher, long relativeZxid, WatchPaths paths);

    /// <summary>
    /// The events a persistent recursive watch on a path at or above this subtree missed after relativeZxid, up to
    /// upTo (from where the gateway's own watch takes over), oldest first; nothing is registered.
    /// </summary>
    Task<WatchEvent[]> ChangesBelow(Watcher watcher, string path, long relativeZxid, long upTo);

    /// <summary>Forgets every watch of a connection that has closed.</summary>
    Task RemoveWatcher(Watcher watcher);

    /// <summary>Node, watch and byte counts of this subtree.</summary>
    Task<SubtreeSummary> GetSummary();

    /// <summary>The data watches (getData and exists) that one gateway's connections hold here, for wchs, wchc and wchp.</summary>
    Task<PathWatch[]> GetDataWatches(int gatewayId);
}

/// <summary>One change of a committed batch, tagged with its zxid and its position in the batch.</summary>
[GenerateSerializer, Immutable]
public readonly record struct ApplyItem([property: Id(0)] long Zxid, [property: Id(1)] int Order, [property: Id(2)] TreeChange Change);

/// <summary>A read to serve among a batch's changes: before the change at index Before, or after all of them.</summary>
[GenerateSerializer, Immutable]
public readonly record struct OrderedRead([property: Id(0)] int Before, [property: Id(1)] ReadCommand Command);

/// <summary>What one subtree grain's share of a batch did: the watch events it fired and the results of its reads, in order.</summary>
[GenerateSerializer, Immutable]
public sealed record AppliedBatch([property: Id(0)] WatchEvent[] Fired, [property: Id(1)] ReadResult[] Reads);

/// <summary>
/// A read as the gateway routes it to the owning subtree grain. ForCache asks for a reply the gateway may keep: when any
/// session may see it, the grain arms the gateway's read-cache watch on the node and marks the reply cacheable.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ReadCommand(
    [property: Id(0)] OpCode Type,
    [property: Id(1)] string Path,
    [property: Id(2)] bool Watch,
    [property: Id(3)] Id[] AuthIds,
    [property: Id(4)] Watcher Watcher,
    [property: Id(5)] long MinZxid,
    [property: Id(6)] WatcherType WatcherType = WatcherType.Any,
    [property: Id(7)] bool ForCache = false);

/// <summary>The paths of each kind of watch a reconnecting client sets again (setWatches, setWatches2).</summary>
[GenerateSerializer, Immutable]
public sealed record WatchPaths(
    [property: Id(0)] string[] Data,
    [property: Id(1)] string[] Exist,
    [property: Id(2)] string[] Child,
    [property: Id(3)] string[] Persistent,
    [property: Id(4)] string[] Recursive);

/// <summary>The events SetWatches fired at once, and the incarnation of the subtree grain that now holds the rest.</summary>
[GenerateSerializer, Immutable]
public sealed record SetWatchesResult([property: Id(0)] WatchEvent[] Fired, [property: Id(1)] Guid Incarnation);

/// <summary>A subtree grain's current incarnation: watches set in any other one are gone.</summary>
[GenerateSerializer, Immutable]
public readonly record struct SubtreeIncarnation([property: Id(0)] string Key, [property: Id(1)] Guid Incarnation);

/// <summary>One watch on one path, as the four-letter words list them.</summary>
[GenerateSerializer, Immutable]
public readonly record struct PathWatch([property: Id(0)] string Path, [property: Id(1)] Watcher Watcher);

/// <summary>Counts of one subtree grain.</summary>
[GenerateSerializer, Immutable]
public sealed record SubtreeSummary(
    [property: Id(0)] int NodeCount,
    [property: Id(1)] int WatchCount,
    [property: Id(2)] long DataSize);
