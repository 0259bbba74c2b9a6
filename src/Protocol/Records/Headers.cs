using OrleansCoord.Protocol.Jute;

namespace OrleansCoord.Protocol.Records;

/// <summary>Precedes every request after the handshake: the client's xid and the opcode.</summary>
public readonly record struct RequestHeader(int Xid, OpCode Type)
{
    public static RequestHeader Read(ref JuteReader r) => new(r.ReadInt(), (OpCode)r.ReadInt());

    public void Write(JuteWriter w)
    {
        w.WriteInt(Xid);
        w.WriteInt((int)Type);
    }
}

/// <summary>Precedes every reply and notification; the body follows only when Err is 0.</summary>
public readonly record struct ReplyHeader(int Xid, long Zxid, ErrorCode Err)
{
    public const int EncodedLength = 16;

    public static ReplyHeader Read(ref JuteReader r) => new(r.ReadInt(), r.ReadLong(), (ErrorCode)r.ReadInt());

    public void Write(JuteWriter w)
    {
        w.WriteInt(Xid);
        w.WriteLong(Zxid);
        w.WriteInt((int)Err);
    }
}

/// <summary>The first packet of a connection; readOnly is absent from pre-3.4 clients (44 bytes).</summary>
public sealed record ConnectRequest(int ProtocolVersion, long LastZxidSeen, int TimeOut, long SessionId, byte[] Passwd, bool ReadOnly, bool HasReadOnly)
{
    public static ConnectRequest Read(ref JuteReader r)
    {
        var protocolVersion = r.ReadInt();
        var lastZxidSeen = r.ReadLong();
        var timeOut = r.ReadInt();
        var sessionId = r.ReadLong();
        var passwd = r.ReadBuffer() ?? [];
        var hasReadOnly = !r.AtEnd;
        var readOnly = hasReadOnly && r.ReadBool();
        return new ConnectRequest(protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly, hasReadOnly);
    }

    public void Write(JuteWriter w)
    {
        w.WriteInt(ProtocolVersion);
        w.WriteLong(LastZxidSeen);
        w.WriteInt(TimeOut);
        w.WriteLong(SessionId);
        w.WriteBuffer(Passwd);
        if (HasReadOnly)
        {
            w.WriteBool(ReadOnly);
        }
    }
}

/// <summary>The server's answer to ConnectRequest; timeOut 0 tells the client its session expired.</summary>
public sealed record ConnectResponse(int ProtocolVersion, int TimeOut, long SessionId, byte[] Passwd, bool ReadOnly, bool HasReadOnly)
{
    public static ConnectResponse Read(ref JuteReader r)
    {
        var protocolVersion = r.ReadInt();
        var timeOut = r.ReadInt();
        var sessionId = r.ReadLong();
        var passwd = r.ReadBuffer() ?? [];
        var hasReadOnly = !r.AtEnd;
        var readOnly = hasReadOnly && r.ReadBool();
        return new ConnectResponse(protocolVersion, timeOut, sessionId, passwd, readOnly, hasReadOnly);
    }

    public void Write(JuteWriter w)
    {
        w.WriteInt(ProtocolVersion);
        w.WriteInt(TimeOut);
        w.WriteLong(SessionId);
        w.WriteBuffer(Passwd);
        if (HasReadOnly)
        {
            w.WriteBool(ReadOnly);
        }
    }
}
