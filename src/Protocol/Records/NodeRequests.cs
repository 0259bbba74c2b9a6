using OrleansCoord.Protocol.Jute;

namespace OrleansCoord.Protocol.Records;

/// <summary>create, create2 and createContainer (opcodes 1, 15, 19).</summary>
public sealed record CreateRequest(string Path, byte[]? Data, List<Acl>? Acl, int Flags)
{
    public static CreateRequest Read(ref JuteReader r) =>
        new(r.ReadRequiredString(), r.ReadBuffer(), Records.Acl.ReadList(ref r), r.ReadInt());

    public void Write(JuteWriter w)
    {
        w.WriteString(Path);
        w.WriteBuffer(Data);
        Records.Acl.WriteList(w, Acl);
        w.WriteInt(Flags);
    }
}

/// <summary>createTTL (opcode 21): a create with a time-to-live in milliseconds.</summary>
public sealed record CreateTtlRequest(string Path, byte[]? Data, List<Acl>? Acl, int Flags, long Ttl)
{
    public static CreateTtlRequest Read(ref JuteReader r) =>
        new(r.ReadRequiredString(), r.ReadBuffer(), Records.Acl.ReadList(ref r), r.ReadInt(), r.ReadLong());

    public void Write(JuteWriter w)
    {
        w.WriteString(Path);
        w.WriteBuffer(Data);
        Records.Acl.WriteList(w, Acl);
        w.WriteInt(Flags);
        w.WriteLong(Ttl);
    }
}

/// <summary>The reply to create (opcode 1): the actual path, with any sequential suffix.</summary>
public sealed record CreateResponse(string Path)
{
    public static CreateResponse Read(ref JuteReader r) => new(r.ReadRequiredString());

    public void Write(JuteWriter w) => w.WriteString(Path);
}

/// <summary>The reply to create2, createContainer and createTTL: path plus the new node's Stat.</summary>
public sealed record Create2Response(string Path, Stat Stat)
{
    public static Create2Response Read(ref JuteReader r) => new(r.ReadRequiredString(), Stat.Read(ref r));

    public void Write(JuteWriter w)
    {
        w.WriteString(Path);
        Stat.Write(w);
    }
}

/// <summary>delete and deleteContainer (opcodes 2, 20); version -1 matches any.</summary>
public sealed record DeleteRequest(string Path, int Version)
{
    public static DeleteRequest Read(ref JuteReader r) => new(r.ReadRequiredString(), r.ReadInt());

    public void Write(JuteWriter w)
    {
        w.WriteString(Path);
        w.WriteInt(Version);
    }
}

/// <summary>exists, getData, getChildren and getChildren2: a path and whether to leave a watch.</summary>
public sealed record PathWatchRequest(string Path, bool Watch)
{
    public static PathWatchRequest Read(ref JuteReader r) => new(r.ReadRequiredString(), r.ReadBool());

    public void Write(JuteWriter w)
    {
        w.WriteString(Path);
        w.WriteBool(Watch);
    }
}

/// <summary>Requests that carry only a path: getACL, sync, getEphemerals, getAllChildrenNumber.</summary>
public sealed record PathRequest(string Path)
{
    public static PathRequest Read(ref JuteReader r) => new(r.ReadRequiredString());

    public void Write(JuteWriter w) => w.WriteString(Path);
}

/// <summary>setData (opcode 5).</summary>
public sealed record SetDataRequest(string Path, byte[]? Data, int Version)
{
    public static SetDataRequest Read(ref JuteReader r) => new(r.ReadRequiredString(), r.ReadBuffer(), r.ReadInt());

    public void Write(JuteWriter w)
    {
        w.WriteString(Path);
        w.WriteBuffer(Data);
        w.WriteInt(Version);
    }
}

/// <summary>setACL (opcode 7); version is compared with the node's aversion.</summary>
public sealed record SetAclRequest(string Path, List<Acl>? Acl, int Version)
{
    public static SetAclRequest Read(ref JuteReader r) => new(r.ReadRequiredString(), Records.Acl.ReadList(ref r), r.ReadInt());

    public void Write(JuteWriter w)
    {
        w.WriteString(Path);
        Records.Acl.WriteList(w, Acl);
        w.WriteInt(Version);
    }
}

/// <summary>check (opcode 13), valid inside multi: the node must exist at this version.</summary>
public sealed record CheckVersionRequest(string Path, int Version)
{
    public static CheckVersionRequest Read(ref JuteReader r) => new(r.ReadRequiredString(), r.ReadInt());

    public void Write(JuteWriter w)
    {
        w.WriteString(Path);
        w.WriteInt(Version);
    }
}

/// <summary>checkWatches and removeWatches (opcodes 17, 18).</summary>
public sealed record WatchesRequest(string Path, WatcherType Type)
{
    public static WatchesRequest Read(ref JuteReader r) => new(r.ReadRequiredString(), (WatcherType)r.ReadInt());

    public void Write(JuteWriter w)
    {
        w.WriteString(Path);
        w.WriteInt((int)Type);
    }
}

/// <summary>addWatch (opcode 106): mode 0 persistent, 1 persistent recursive.</summary>
public sealed record AddWatchRequest(string Path, int Mode)
{
    public static AddWatchRequest Read(ref JuteReader r) => new(r.ReadRequiredString(), r.ReadInt());

    public void Write(JuteWriter w)
    {
        w.WriteString(Path);
        w.WriteInt(Mode);
    }
}
