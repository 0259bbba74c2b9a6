using OrleansCoord.Protocol.Jute;

namespace OrleansCoord.Protocol.Records;

/// <summary>Replies that carry only a Stat: exists, setData, setACL.</summary>
public sealed record StatResponse(Stat Stat)
{
    public static StatResponse Read(ref JuteReader r) => new(Stat.Read(ref r));

    public void Write(JuteWriter w) => Stat.Write(w);
}

/// <summary>The reply to getData.</summary>
public sealed record GetDataResponse(byte[]? Data, Stat Stat)
{
    public static GetDataResponse Read(ref JuteReader r) => new(r.ReadBuffer(), Stat.Read(ref r));

    public void Write(JuteWriter w)
    {
        w.WriteBuffer(Data);
        Stat.Write(w);
    }
}

/// <summary>The reply to getACL.</summary>
public sealed record GetAclResponse(List<Acl> Acl, Stat Stat)
{
    public static GetAclResponse Read(ref JuteReader r) => new(Records.Acl.ReadList(ref r) ?? [], Stat.Read(ref r));

    public void Write(JuteWriter w)
    {
        Records.Acl.WriteList(w, Acl);
        Stat.Write(w);
    }
}

/// <summary>The reply to getChildren, and getEphemerals' list of paths.</summary>
public sealed record StringListResponse(List<string> Values)
{
    public static StringListResponse Read(ref JuteReader r) => new(r.ReadStringList());

    public void Write(JuteWriter w) => w.WriteStringList(Values);
}

/// <summary>The reply to getChildren2.</summary>
public sealed record GetChildren2Response(List<string> Children, Stat Stat)
{
    public static GetChildren2Response Read(ref JuteReader r) => new(r.ReadStringList(), Stat.Read(ref r));

    public void Write(JuteWriter w)
    {
        w.WriteStringList(Children);
        Stat.Write(w);
    }
}

/// <summary>A notification body (xid -1).</summary>
public sealed record WatcherEvent(EventType Type, KeeperState State, string Path)
{
    public static WatcherEvent Read(ref JuteReader r) => new((EventType)r.ReadInt(), (KeeperState)r.ReadInt(), r.ReadRequiredString());

    public void Write(JuteWriter w)
    {
        w.WriteInt((int)Type);
        w.WriteInt((int)State);
        w.WriteString(Path);
    }
}
