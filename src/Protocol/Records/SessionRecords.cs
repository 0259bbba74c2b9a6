using OrleansCoord.Protocol.Jute;

namespace OrleansCoord.Protocol.Records;

/// <summary>auth (opcode 100, xid -4).</summary>
public sealed record AuthPacket(int Type, string Scheme, byte[]? Auth)
{
    public static AuthPacket Read(ref JuteReader r) => new(r.ReadInt(), r.ReadRequiredString(), r.ReadBuffer());

    public void Write(JuteWriter w)
    {
        w.WriteInt(Type);
        w.WriteString(Scheme);
        w.WriteBuffer(Auth);
    }
}

/// <summary>setWatches (101) and setWatches2 (105), sent on reconnect with the last zxid seen.</summary>
public sealed record SetWatchesRequest(
    long RelativeZxid,
    List<string> DataWatches,
    List<string> ExistWatches,
    List<string> ChildWatches,
    List<string>? PersistentWatches,
    List<string>? PersistentRecursiveWatches)
{
    public static SetWatchesRequest Read(ref JuteReader r, bool version2)
    {
        var rel = r.ReadLong();
        var data = r.ReadStringList();
        var exist = r.ReadStringList();
        var child = r.ReadStringList();
        return version2
            ? new SetWatchesRequest(rel, data, exist, child, r.ReadStringList(), r.ReadStringList())
            : new SetWatchesRequest(rel, data, exist, child, null, null);
    }

    public void Write(JuteWriter w)
    {
        w.WriteLong(RelativeZxid);
        w.WriteStringList(DataWatches);
        w.WriteStringList(ExistWatches);
        w.WriteStringList(ChildWatches);
        if (PersistentWatches is not null)
        {
            w.WriteStringList(PersistentWatches);
            w.WriteStringList(PersistentRecursiveWatches ?? []);
        }
    }
}

/// <summary>reconfig (opcode 16).</summary>
public sealed record ReconfigRequest(string? JoiningServers, string? LeavingServers, string? NewMembers, long CurConfigId)
{
    public static ReconfigRequest Read(ref JuteReader r) => new(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadLong());

    public void Write(JuteWriter w)
    {
        w.WriteString(JoiningServers);
        w.WriteString(LeavingServers);
        w.WriteString(NewMembers);
        w.WriteLong(CurConfigId);
    }
}

/// <summary>sasl (opcode 102) request and reply: an opaque token.</summary>
public sealed record SaslToken(byte[]? Token)
{
    public static SaslToken Read(ref JuteReader r) => new(r.ReadBuffer());

    public void Write(JuteWriter w) => w.WriteBuffer(Token);
}

/// <summary>getAllChildrenNumber's reply.</summary>
public sealed record GetAllChildrenNumberResponse(int TotalNumber)
{
    public static GetAllChildrenNumberResponse Read(ref JuteReader r) => new(r.ReadInt());

    public void Write(JuteWriter w) => w.WriteInt(TotalNumber);
}

/// <summary>whoAmI's reply.</summary>
public sealed record WhoAmIResponse(List<ClientInfo> ClientInfo)
{
    public static WhoAmIResponse Read(ref JuteReader r)
    {
        var count = r.ReadVectorCount();
        var list = new List<ClientInfo>(Math.Max(count, 0));
        for (var i = 0; i < count; i++)
        {
            list.Add(Records.ClientInfo.Read(ref r));
        }

        return new WhoAmIResponse(list);
    }

    public void Write(JuteWriter w)
    {
        w.WriteInt(ClientInfo.Count);
        foreach (var info in ClientInfo)
        {
            info.Write(w);
        }
    }
}

/// <summary>An error result inside a multi reply, and addWatch's reply body.</summary>
public sealed record ErrorResponse(ErrorCode Err)
{
    public static ErrorResponse Read(ref JuteReader r) => new((ErrorCode)r.ReadInt());

    public void Write(JuteWriter w) => w.WriteInt((int)Err);
}
