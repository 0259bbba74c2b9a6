using System.Text;
using Microsoft.Extensions.Logging;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Security;

/// <summary>
/// ZooKeeper's audit log (audit.enable): one line per write and per session's ephemeral deletion, as its
/// Log4jAuditLogger writes them: tab-separated session, user, ip, operation, znode, znode_type, acl and result. The
/// lines go to the logger category OrleansCoord.Audit.
/// </summary>
public sealed partial class AuditLog(ILogger<AuditLog> logger)
{
    /// <summary>The user server operations are done as, as ZooKeeper names its own process user.</summary>
    public static readonly string ServerUser = Environment.UserName;

    /// <summary>One client write with its result; a multi that succeeded is logged op by op.</summary>
    public void Write(long sessionId, Id[] authIds, string ip, OpCode type, ReadOnlySpan<byte> body, ErrorCode err)
    {
        var users = Users(authIds);
        var result = err == ErrorCode.Ok ? "success" : "failure";
        var reader = new Protocol.Jute.JuteReader(body);
        switch (type)
        {
            case OpCode.Create or OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl:
                var create = MultiOp.Read(ref reader, type);
                Log(sessionId, users, ip, "create", create.Path, CreateModeName(create.Flags), null, result);
                break;
            case OpCode.Delete or OpCode.SetData:
                var op = MultiOp.Read(ref reader, type);
                Log(sessionId, users, ip, type == OpCode.Delete ? "delete" : "setData", op.Path, null, null, result);
                break;
            case OpCode.SetAcl:
                var setAcl = SetAclRequest.Read(ref reader);
                Log(sessionId, users, ip, "setAcl", setAcl.Path, null, AclText(setAcl.Acl), result);
                break;
            case OpCode.Multi when err != ErrorCode.Ok:
                Log(sessionId, users, ip, "multiOperation", null, null, null, result);
                break;
            case OpCode.Multi:
                foreach (var sub in MultiRequest.Read(ref reader).Ops)
                {
                    var name = sub.Type switch
                    {
                        OpCode.Create or OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl => "create",
                        OpCode.Delete => "delete",
                        OpCode.SetData => "setData",
                        _ => null,
                    };
                    if (name is not null)
                    {
                        Log(sessionId, users, ip, name, sub.Path, name == "create" ? CreateModeName(sub.Flags) : null, null, result);
                    }
                }

                break;
        }
    }

    /// <summary>The ephemerals a closed or expired session's txn deleted.</summary>
    public void EphemeralsDeleted(long sessionId, IReadOnlyCollection<string> paths)
    {
        if (paths.Count > 0)
        {
            Log(sessionId, ServerUser, null, "ephemeralZNodeDeletionOnSessionCloseOrExpire", string.Join(",", paths), null, null, "success");
        }
    }

    public void ServerStart() => Log(null, ServerUser, null, "serverStart", null, null, null, "success");

    public void ServerStop() => Log(null, ServerUser, null, "serverStop", null, null, null, "invoked");

    private void Log(long? sessionId, string? user, string? ip, string operation, string? znode, string? znodeType, string? acl, string result)
    {
        var line = new StringBuilder();
        void Add(string key, string? value)
        {
            if (value is not null)
            {
                line.Append(key).Append('=').Append(value).Append('\t');
            }
        }

        Add("session", sessionId is { } id ? "0x" + id.ToString("x", System.Globalization.CultureInfo.InvariantCulture) : null);
        Add("user", user);
        Add("ip", ip);
        Add("operation", operation);
        Add("znode", znode);
        Add("znode_type", znodeType);
        Add("acl", acl);
        line.Append("result=").Append(result);
        LogAudit(logger, line.ToString());
    }

    /// <summary>AuthUtil.getUsers: each authenticated id's user, comma-separated (the digest user without its hash).</summary>
    private static string? Users(Id[] authIds)
    {
        var users = authIds.Where(static id => id.Scheme != AuthenticationProviders.Super)
            .Select(static id => id.Scheme == AuthenticationProviders.Digest ? id.Identity.Split(':')[0] : id.Identity)
            .ToList();
        return users.Count == 0 ? null : string.Join(",", users);
    }

    private static string CreateModeName(int flags) => (CreateMode)flags switch
    {
        CreateMode.Persistent => "persistent",
        CreateMode.Ephemeral => "ephemeral",
        CreateMode.PersistentSequential => "persistent_sequential",
        CreateMode.EphemeralSequential => "ephemeral_sequential",
        CreateMode.Container => "container",
        CreateMode.PersistentWithTtl => "persistent_with_ttl",
        CreateMode.PersistentSequentialWithTtl => "persistent_sequential_with_ttl",
        _ => flags.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>ZKUtil.aclToString: scheme:id:perms, perms as the letters c, d, r, w, a.</summary>
    private static string AclText(IEnumerable<Acl>? acls) => string.Join(",", (acls ?? []).Select(static a =>
        $"{a.Id.Scheme}:{a.Id.Identity}:{((a.Perms & Perms.Create) != 0 ? "c" : "")}{((a.Perms & Perms.Delete) != 0 ? "d" : "")}" +
        $"{((a.Perms & Perms.Read) != 0 ? "r" : "")}{((a.Perms & Perms.Write) != 0 ? "w" : "")}{((a.Perms & Perms.Admin) != 0 ? "a" : "")}"));

    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "{Line}")]
    private static partial void LogAudit(ILogger logger, string line);
}
