using Orleans.Concurrency;

namespace OrleansCoord.Grains.Abstractions;

/// <summary>
/// The single writer of the coordination service, ZooKeeper's leader: it validates writes against the tree's
/// metadata, assigns zxids, group-commits batches to the durable log, applies them to the subtree grains and
/// publishes the applied watermark with the watch events it fired.
/// </summary>
public interface IQuorumLogGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Registers a gateway for publications, with every change's data event when it asks for all changes (it holds
    /// persistent recursive watches on "/"), and notes the client endpoint it serves for /zookeeper/config; returns
    /// its gateway id, the current watermark and where the grain runs.
    /// </summary>
    Task<Subscription> Subscribe(IGatewayObserver observer, GatewayRegistration registration);

    /// <summary>The keys of the subtree grains that hold nodes, the root's first.</summary>
    Task<string[]> GetSubtreeKeys();

    /// <summary>
    /// Validates, orders, commits and applies a batch of writes; results come back in batch order. A batch also
    /// opens sessions (ZooKeeper's createSession txn, <see cref="WriteRequest.OpenSession"/>) and serves reads
    /// ordered among its writes. Calls interleave, so that batches are validated while earlier ones are made
    /// durable and applied; each gateway's are validated in the order of their <see cref="BatchOrigin"/>. Both arrays
    /// are handed over without a copy.
    /// </summary>
    [AlwaysInterleave]
    Task<Immutable<WriteResult[]>> Submit(Immutable<WriteRequest[]> batch, BatchOrigin origin);

    /// <summary>
    /// Hands a live session to the connection that resumes it with its id and password (ZooKeeper's session owner
    /// moves to it); a SessionId of 0 when the session has expired, never existed, or the password is wrong.
    /// </summary>
    Task<SessionInfo> ResumeSession(long sessionId, byte[] password);

    /// <summary>Marks sessions as active: each one's expiry moves to now plus its timeout.</summary>
    [OneWay]
    Task Touch(long[] sessionIds);

    /// <summary>The session's ephemeral nodes whose paths start with the prefix ("" or "/" for all).</summary>
    Task<string[]> GetEphemerals(long sessionId, string prefix);

    /// <summary>Loads a subtree grain that lost its nodes or never had them, from the index or, when it holds nodes, from storage.</summary>
    Task EnsureSubtree(string key);

    /// <summary>The text of a quota's zookeeper_stats node (its path's node count and data bytes now); null when it has no quota.</summary>
    Task<string?> GetQuotaUsage(string statNodePath);

    /// <summary>Whether writes can be ordered now: false while storage refuses them. Answered between turns, even under load.</summary>
    [AlwaysInterleave]
    Task<bool> CanOrderWrites();

    /// <summary>Tries storage again, as the next write would, if the last write could not reach it; whether writes can be ordered.</summary>
    Task<bool> TryRepair();

    /// <summary>Counts for the four-letter words and metrics.</summary>
    Task<ServerSummary> GetSummary();

    /// <summary>Every live session with its expiry time and ephemeral nodes, for dump.</summary>
    Task<SessionDump[]> DumpSessions();
}

/// <summary>
/// What a gateway tells the quorum-log grain each time it subscribes: its id (0 for a new gateway), whether it wants
/// every change, the client endpoint it serves (host:port, null until bound), and whether its silo is an observer.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record GatewayRegistration(
    [property: Id(0)] int GatewayId,
    [property: Id(1)] bool AllChanges,
    [property: Id(2)] string? ClientEndpoint,
    [property: Id(3)] bool Observer);

/// <summary>A live session as dump shows it: when it expires (Unix ms) unless renewed, and its ephemeral nodes.</summary>
[GenerateSerializer, Immutable]
public sealed record SessionDump([property: Id(0)] long SessionId, [property: Id(1)] long ExpiresAtMs, [property: Id(2)] string[] Ephemerals);

/// <summary>
/// A gateway's registration: its id, the watermark it starts from, the silo that orders writes (the leader),
/// the watch events for it that fired while it was not subscribed, and the subtrees whose grains came back as
/// new incarnations (or all subtrees, when events had to be dropped): connections with watches in an earlier
/// incarnation must reconnect and SetWatches.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Subscription(
    [property: Id(0)] int GatewayId,
    [property: Id(1)] long Watermark,
    [property: Id(2)] SiloAddress Leader,
    [property: Id(3)] WatchEvent[] MissedEvents,
    [property: Id(4)] SubtreeIncarnation[] LostWatches,
    [property: Id(5)] bool AllWatchesLost);

/// <summary>Counts the four-letter words report.</summary>
[GenerateSerializer, Immutable]
public sealed record ServerSummary(
    [property: Id(0)] long LastZxid,
    [property: Id(1)] int NodeCount,
    [property: Id(2)] int SessionCount,
    [property: Id(3)] int EphemeralCount,
    [property: Id(4)] long ApproximateDataSize,
    [property: Id(5)] int SubtreeCount);
