using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Abstractions;

// Protocol stays free of Orleans; these surrogates let its value types cross grain boundaries.

[GenerateSerializer]
internal struct IdSurrogate
{
    [Id(0)] public string Scheme;
    [Id(1)] public string Identity;
}

[RegisterConverter]
internal sealed class IdConverter : IConverter<Id, IdSurrogate>
{
    public Id ConvertFromSurrogate(in IdSurrogate surrogate) => new(surrogate.Scheme, surrogate.Identity);

    public IdSurrogate ConvertToSurrogate(in Id value) => new() { Scheme = value.Scheme, Identity = value.Identity };
}

[GenerateSerializer]
internal struct AclSurrogate
{
    [Id(0)] public int Perms;
    [Id(1)] public string Scheme;
    [Id(2)] public string Identity;
}

[RegisterConverter]
internal sealed class AclConverter : IConverter<Acl, AclSurrogate>
{
    public Acl ConvertFromSurrogate(in AclSurrogate surrogate) => new((Perms)surrogate.Perms, new Id(surrogate.Scheme, surrogate.Identity));

    public AclSurrogate ConvertToSurrogate(in Acl value) => new() { Perms = (int)value.Perms, Scheme = value.Id.Scheme, Identity = value.Id.Identity };
}

[GenerateSerializer]
internal struct StatSurrogate
{
    [Id(0)] public long Czxid;
    [Id(1)] public long Mzxid;
    [Id(2)] public long Ctime;
    [Id(3)] public long Mtime;
    [Id(4)] public int Version;
    [Id(5)] public int Cversion;
    [Id(6)] public int Aversion;
    [Id(7)] public long EphemeralOwner;
    [Id(8)] public int DataLength;
    [Id(9)] public int NumChildren;
    [Id(10)] public long Pzxid;
}

[RegisterConverter]
internal sealed class StatConverter : IConverter<Stat, StatSurrogate>
{
    public Stat ConvertFromSurrogate(in StatSurrogate s) =>
        new(s.Czxid, s.Mzxid, s.Ctime, s.Mtime, s.Version, s.Cversion, s.Aversion, s.EphemeralOwner, s.DataLength, s.NumChildren, s.Pzxid);

    public StatSurrogate ConvertToSurrogate(in Stat v) => new()
    {
        Czxid = v.Czxid, Mzxid = v.Mzxid, Ctime = v.Ctime, Mtime = v.Mtime, Version = v.Version, Cversion = v.Cversion,
        Aversion = v.Aversion, EphemeralOwner = v.EphemeralOwner, DataLength = v.DataLength, NumChildren = v.NumChildren, Pzxid = v.Pzxid,
    };
}
