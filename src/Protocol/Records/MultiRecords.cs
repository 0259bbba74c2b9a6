using OrleansCoord.Protocol.Jute;

namespace OrleansCoord.Protocol.Records;

/// <summary>One operation inside multi (14) or multiRead (22), flattened over the op kinds it can be.</summary>
public sealed record MultiOp(OpCode Type, string Path, byte[]? Data = null, List<Acl>? Acl = null, int Flags = 0, int Version = -1, long Ttl = 0, bool Watch = false)
{
    public static MultiOp Read(ref JuteReader r, OpCode type)
    {
        switch (type)
        {
            case OpCode.Create or OpCode.Create2 or OpCode.CreateContainer:
                var c = CreateRequest.Read(ref r);
                return new MultiOp(type, c.Path, c.Data, c.Acl, c.Flags);
            case OpCode.CreateTtl:
                var t = CreateTtlRequest.Read(ref r);
                return new MultiOp(type, t.Path, t.Data, t.Acl, t.Flags, Ttl: t.Ttl);
            case OpCode.Delete or OpCode.DeleteContainer:
                var d = DeleteRequest.Read(ref r);
                return new MultiOp(type, d.Path, Version: d.Version);
            case OpCode.SetData:
                var s = SetDataRequest.Read(ref r);
                return new MultiOp(type, s.Path, s.Data, Version: s.Version);
            case OpCode.Check:
                var k = CheckVersionRequest.Read(ref r);
                return new MultiOp(type, k.Path, Version: k.Version);
            case OpCode.GetData or OpCode.GetChildren:
                var g = PathWatchRequest.Read(ref r);
                return new MultiOp(type, g.Path, Watch: g.Watch);
            default:
                throw new JuteException($"invalid op type {(int)type} in multi");
        }
    }

    public void Write(JuteWriter w)
    {
        switch (Type)
        {
            case OpCode.Create or OpCode.Create2 or OpCode.CreateContainer:
                new CreateRequest(Path, Data, Acl, Flags).Write(w);
                break;
            case OpCode.CreateTtl:
                new CreateTtlRequest(Path, Data, Acl, Flags, Ttl).Write(w);
                break;
            case OpCode.Delete or OpCode.DeleteContainer:
                new DeleteRequest(Path, Version).Write(w);
                break;
            case OpCode.SetData:
                new SetDataRequest(Path, Data, Version).Write(w);
                break;
            case OpCode.Check:
                new CheckVersionRequest(Path, Version).Write(w);
                break;
            default:
                new PathWatchRequest(Path, Watch).Write(w);
                break;
        }
    }
}

/// <summary>The body of multi and multiRead: MultiHeader-prefixed ops ending with a done header.</summary>
public sealed record MultiRequest(List<MultiOp> Ops)
{
    public static MultiRequest Read(ref JuteReader r)
    {
        var ops = new List<MultiOp>();
        while (true)
        {
            var type = (OpCode)r.ReadInt();
            var done = r.ReadBool();
            r.ReadInt();
            if (done)
            {
                return new MultiRequest(ops);
            }

            ops.Add(MultiOp.Read(ref r, type));
        }
    }

    public void Write(JuteWriter w)
    {
        foreach (var op in Ops)
        {
            w.WriteInt((int)op.Type);
            w.WriteBool(false);
            w.WriteInt(-1);
            op.Write(w);
        }

        WriteDone(w);
    }

    internal static void WriteDone(JuteWriter w)
    {
        w.WriteInt(-1);
        w.WriteBool(true);
        w.WriteInt(-1);
    }
}

/// <summary>One result inside a multi reply; Type is Error (-1) for a failed or rolled-back op.</summary>
public sealed record MultiResult(OpCode Type, ErrorCode Err = ErrorCode.Ok, string? Path = null, Stat Stat = default, byte[]? Data = null, List<string>? Children = null)
{
    public static MultiResult Error(ErrorCode err) => new(OpCode.Error, err);

    public void Write(JuteWriter w)
    {
        w.WriteInt((int)Type);
        w.WriteBool(false);
        w.WriteInt(Type == OpCode.Error ? (int)Err : 0);
        WriteBody(w);
    }

    /// <summary>The op's reply body alone: also the body of the same op sent outside multi.</summary>
    public void WriteBody(JuteWriter w) => WriteBody(w, Type, Err, Path, Stat, Data, Children);

    /// <summary>The reply body of an op of this type, written without a result record (a single write's reply).</summary>
    public static void WriteBody(JuteWriter w, OpCode type, ErrorCode err, string? path, in Stat stat, byte[]? data = null, List<string>? children = null)
    {
        switch (type)
        {
            case OpCode.Create:
                w.WriteString(path);
                break;
            case OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl:
                w.WriteString(path);
                stat.Write(w);
                break;
            case OpCode.SetData:
                stat.Write(w);
                break;
            case OpCode.GetData:
                w.WriteBuffer(data);
                stat.Write(w);
                break;
            case OpCode.GetChildren:
                w.WriteStringList(children);
                break;
            case OpCode.Error:
                w.WriteInt((int)err);
                break;
            default:
                break;
        }
    }

    public static MultiResult Read(ref JuteReader r, OpCode type, ErrorCode headerErr) => type switch
    {
        OpCode.Create => new MultiResult(type, Path: r.ReadRequiredString()),
        OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl => new MultiResult(type, Path: r.ReadRequiredString(), Stat: Stat.Read(ref r)),
        OpCode.SetData => new MultiResult(type, Stat: Stat.Read(ref r)),
        OpCode.GetData => new MultiResult(type, Data: r.ReadBuffer(), Stat: Stat.Read(ref r)),
        OpCode.GetChildren => new MultiResult(type, Children: r.ReadStringList()),
        OpCode.Error => new MultiResult(type, (ErrorCode)r.ReadInt()),
        _ => new MultiResult(type, headerErr),
    };
}

/// <summary>The reply body of multi and multiRead.</summary>
public sealed record MultiResponse(List<MultiResult> Results)
{
    public static MultiResponse Read(ref JuteReader r)
    {
        var results = new List<MultiResult>();
        while (true)
        {
            var type = (OpCode)r.ReadInt();
            var done = r.ReadBool();
            var err = (ErrorCode)r.ReadInt();
            if (done)
            {
                return new MultiResponse(results);
            }

            results.Add(MultiResult.Read(ref r, type, err));
        }
    }

    public void Write(JuteWriter w)
    {
        foreach (var result in Results)
        {
            result.Write(w);
        }

        MultiRequest.WriteDone(w);
    }
}
