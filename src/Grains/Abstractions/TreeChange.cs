using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Abstractions;

/// <summary>What a committed txn does to one znode.</summary>
public enum TreeChangeKind
{
    Create,
    Delete,
    SetData,
    SetAcl,
    ChildAdded,
    ChildRemoved,
}

/// <summary>
/// One step of a committed txn, applied by the subtree grain that owns <see cref="Path"/>. It carries the
/// node's complete metadata after the change (for a delete, before it), so appliers never recompute what the
/// quorum-log grain decided, and replaying a change onto a state that already holds it changes nothing.
/// ChildAdded and ChildRemoved name the child by its full path, the same string the child's own change carries.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TreeChange(
    [property: Id(0)] TreeChangeKind Kind,
    [property: Id(1)] string Path,
    [property: Id(2)] NodeMeta Meta,
    [property: Id(3)] byte[]? Data = null,
    [property: Id(4)] string? ChildPath = null)
{
    public Stat Stat => Meta.Stat;
}

/// <summary>
/// A committed txn: its zxid and the ordered changes it makes; createSession carries the session's timeout and
/// password. A client's txn carries the replies to its request and to the same connection's requests before it in
/// the batch that ended without a txn, so that a new leader can answer them when they are sent again.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Txn(
    [property: Id(0)] long Zxid,
    [property: Id(1)] long SessionId,
    [property: Id(2)] int Xid,
    [property: Id(3)] long Time,
    [property: Id(4)] OpCode Type,
    [property: Id(5)] TreeChange[] Changes,
    [property: Id(6)] int SessionTimeout = 0,
    [property: Id(7)] byte[]? SessionPassword = null,
    [property: Id(8)] WriteOutcome[]? Outcomes = null);
