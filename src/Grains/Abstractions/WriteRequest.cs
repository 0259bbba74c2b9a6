using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Abstractions;

/// <summary>
/// One client write as the gateway received it: the raw request body plus who sent it. <see cref="Owner"/> names
/// the connection the session had when it was sent (0 for the server's own writes): a write from a connection the
/// session has since left is refused with SESSIONMOVED, and (Owner, Xid) identify a write sent again.
/// A request with <see cref="Read"/> is a read the session sent while its writes were in flight: it is ordered among
/// the writes, so that it sees the session's earlier writes and none of its later ones, and changes nothing.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record WriteRequest(
    [property: Id(0)] long SessionId,
    [property: Id(1)] int Xid,
    [property: Id(2)] OpCode Type,
    [property: Id(3)] byte[] Body,
    [property: Id(4)] Id[] AuthIds,
    [property: Id(5)] long Owner = 0,
    [property: Id(6)] ReadCommand? Read = null)
{
    /// <summary>
    /// A handshake's createSession: it goes in a batch like any write, so that sessions opened together share a
    /// group commit; its result's body is the new session (<see cref="SessionInfo.FromResult"/>).
    /// </summary>
    public static WriteRequest OpenSession(int timeoutMs)
    {
        var body = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(body, timeoutMs);
        return new WriteRequest(0, 0, OpCode.CreateSession, body, []);
    }

    /// <summary>The timeout a createSession request (<see cref="OpenSession"/>) asks for.</summary>
    public int SessionTimeoutMs => System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(Body);
}

/// <summary>
/// The outcome of one request of a batch: its zxid (or the last zxid, for errors) and the encoded reply body; for a
/// read ordered among writes, also the incarnation of the subtree grain that answered it.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct WriteResult(
    [property: Id(0)] long Zxid,
    [property: Id(1)] ErrorCode Err,
    [property: Id(2)] byte[]? Body,
    [property: Id(3)] Guid Incarnation = default);

/// <summary>The reply a connection got for one of its writes, kept so that the write sent again is answered, not applied again.</summary>
[GenerateSerializer, Immutable]
public sealed record WriteOutcome(
    [property: Id(0)] long Owner,
    [property: Id(1)] int Xid,
    [property: Id(2)] WriteResult Result);

/// <summary>
/// The outcome of a read: the zxid whose state it reflects, the error, the encoded reply body, and the
/// incarnation of the subtree grain that answered (a watch it set lives and dies with that incarnation), and whether
/// the gateway may keep the reply until the node changes (see <see cref="ReadCommand.ForCache"/>).
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct ReadResult(
    [property: Id(0)] long Zxid,
    [property: Id(1)] ErrorCode Err,
    [property: Id(2)] byte[]? Body,
    [property: Id(3)] Guid Incarnation = default,
    [property: Id(4)] bool Cacheable = false);

/// <summary>
/// A session as the quorum-log grain knows it, for the gateway's handshake; SessionId 0 when unknown. Owner is the
/// connection that now holds it, which the connection's writes carry.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct SessionInfo(
    [property: Id(0)] long SessionId,
    [property: Id(1)] int TimeoutMs,
    [property: Id(2)] byte[] Password,
    [property: Id(3)] long Zxid,
    [property: Id(4)] long Owner = 0)
{
    /// <summary>The session a createSession request opened, as its result's body carries it (jute: id, timeout, password, owner).</summary>
    public WriteResult ToResult()
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>(48);
        var writer = new JuteWriter(output);
        writer.WriteLong(SessionId);
        writer.WriteInt(TimeoutMs);
        writer.WriteBuffer(Password);
        writer.WriteLong(Owner);
        return new WriteResult(Zxid, ErrorCode.Ok, output.WrittenSpan.ToArray());
    }

    public static SessionInfo FromResult(WriteResult result)
    {
        var reader = new JuteReader(result.Body);
        return new SessionInfo(reader.ReadLong(), reader.ReadInt(), reader.ReadBuffer() ?? [], result.Zxid, reader.ReadLong());
    }
}
