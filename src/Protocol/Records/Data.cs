using OrleansCoord.Protocol.Jute;

namespace OrleansCoord.Protocol.Records;

/// <summary>An authenticated identity or ACL subject: scheme plus id (org.apache.zookeeper.data.Id).</summary>
public readonly record struct Id(string Scheme, string Identity)
{
    public static readonly Id Anyone = new("world", "anyone");

    private static readonly string[] CommonSchemes = ["world", "digest", "auth", "ip"];
    private static readonly string[] CommonIdentities = ["anyone"];

    public static Id Read(ref JuteReader r) => new(r.ReadRequiredString(CommonSchemes), r.ReadRequiredString(CommonIdentities));

    public void Write(JuteWriter w)
    {
        w.WriteString(Scheme);
        w.WriteString(Identity);
    }

    public override string ToString() => $"{Scheme}:{Identity}";
}

/// <summary>One ACL entry: permission bits granted to an id (org.apache.zookeeper.data.ACL).</summary>
public readonly record struct Acl(Perms Perms, Id Id)
{
    public static readonly IReadOnlyList<Acl> OpenAclUnsafe = [new Acl(Perms.All, Id.Anyone)];

    public static readonly IReadOnlyList<Acl> ReadAclUnsafe = [new Acl(Perms.Read, Id.Anyone)];

    public static Acl Read(ref JuteReader r) => new((Perms)r.ReadInt(), Id.Read(ref r));

    public void Write(JuteWriter w)
    {
        w.WriteInt((int)Perms);
        Id.Write(w);
    }

    public static List<Acl>? ReadList(ref JuteReader r)
    {
        var count = r.ReadVectorCount();
        if (count < 0)
        {
            return null;
        }

        var list = new List<Acl>(count);
        for (var i = 0; i < count; i++)
        {
            list.Add(Read(ref r));
        }

        return list;
    }

    public static void WriteList(JuteWriter w, IReadOnlyList<Acl>? acl)
    {
        if (acl is null)
        {
            w.WriteInt(-1);
            return;
        }

        w.WriteInt(acl.Count);
        for (var i = 0; i < acl.Count; i++)
        {
            acl[i].Write(w);
        }
    }
}

/// <summary>A znode's metadata as clients see it (org.apache.zookeeper.data.Stat), 68 bytes on the wire.</summary>
public readonly record struct Stat(
    long Czxid,
    long Mzxid,
    long Ctime,
    long Mtime,
    int Version,
    int Cversion,
    int Aversion,
    long EphemeralOwner,
    int DataLength,
    int NumChildren,
    long Pzxid)
{
    public const int EncodedLength = 68;

    /// <summary>
    /// The stat as ZooKeeper shows it to clients: the ephemeralOwner of a TTL node, which carries its TTL, reads 0
    /// (DataNode.getClientEphemeralOwner).
    /// </summary>
    public Stat ForClient() => EphemeralOwners.IsTtl(EphemeralOwner) ? this with { EphemeralOwner = 0 } : this;

    public static Stat Read(ref JuteReader r) => new(
        r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadLong(),
        r.ReadInt(), r.ReadInt(), r.ReadInt(), r.ReadLong(), r.ReadInt(), r.ReadInt(), r.ReadLong());

    public void Write(JuteWriter w)
    {
        w.WriteLong(Czxid);
        w.WriteLong(Mzxid);
        w.WriteLong(Ctime);
        w.WriteLong(Mtime);
        w.WriteInt(Version);
        w.WriteInt(Cversion);
        w.WriteInt(Aversion);
        w.WriteLong(EphemeralOwner);
        w.WriteInt(DataLength);
        w.WriteInt(NumChildren);
        w.WriteLong(Pzxid);
    }
}

/// <summary>One authenticated identity in a whoAmI reply (org.apache.zookeeper.data.ClientInfo).</summary>
public sealed record ClientInfo(string AuthScheme, string User)
{
    public static ClientInfo Read(ref JuteReader r) => new(r.ReadRequiredString(), r.ReadRequiredString());

    public void Write(JuteWriter w)
    {
        w.WriteString(AuthScheme);
        w.WriteString(User);
    }
}
