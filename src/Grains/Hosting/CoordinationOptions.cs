namespace OrleansCoord.Grains.Hosting;

/// <summary>Settings of the coordination core (zoo.cfg keys that the grains obey).</summary>
public sealed class CoordinationOptions
{
    /// <summary>zoo.cfg tickTime in milliseconds: the unit of session expiry checks.</summary>
    public int TickTime { get; set; } = 2000;

    /// <summary>zoo.cfg skipACL: turns every ACL check off.</summary>
    public bool SkipAcl { get; set; }

    /// <summary>The ACL schemes of the server's authentication providers: digest and ip, x509 with TLS, sasl with SASL.</summary>
    public IReadOnlySet<string> AclSchemes { get; set; } = Security.AuthenticationProviders.Default;

    /// <summary>The digest id (user:base64hash) that authenticates as the super user, like superDigest.</summary>
    public string? SuperDigest { get; set; }

    /// <summary>znode.container.checkIntervalMs: how often emptied container nodes are looked for.</summary>
    public int ContainerCheckIntervalMs { get; set; } = 60000;

    /// <summary>znode.container.maxPerMinute: the most container deletions per minute.</summary>
    public int ContainerMaxPerMinute { get; set; } = 10000;

    /// <summary>znode.container.maxNeverUsedIntervalMs: a container that never had a child is deleted after this long; 0 never.</summary>
    public long ContainerMaxNeverUsedIntervalMs { get; set; }

    /// <summary>zookeeper.extendedTypesEnabled: allows TTL nodes, as ZooKeeper does only when it is set.</summary>
    public bool ExtendedTypesEnabled { get; set; }

    /// <summary>enforceQuota (zookeeper.enforceQuota): hard quota limits refuse writes with QUOTAEXCEEDED.</summary>
    public bool EnforceQuota { get; set; }

    /// <summary>False in a cluster (PostgreSQL storage), where /zookeeper/config lists the silos' client endpoints.</summary>
    public bool Standalone { get; set; } = true;

    /// <summary>audit.enable (zookeeper.audit.enable): write the audit log (logger category OrleansCoord.Grains.Security.AuditLog).</summary>
    public bool AuditEnabled { get; set; }

    /// <summary>snapCount: txns logged between snapshots.</summary>
    public int SnapCount { get; set; } = 100000;

    /// <summary>autopurge.snapRetainCount: snapshots (and the log after the oldest of them) autopurge keeps; at least 3.</summary>
    public int SnapRetainCount { get; set; } = 3;

    /// <summary>autopurge.purgeInterval in hours; 0 turns autopurge off, as in ZooKeeper.</summary>
    public int PurgeIntervalHours { get; set; }

    /// <summary>The server id (myid) folded into session ids, as ZooKeeper does.</summary>
    public long ServerId { get; set; }
}
