using System.Globalization;
using System.Net;
using OrleansCoord.Gateway.Hosting;
using OrleansCoord.Grains.Hosting;
using OrleansCoord.Grains.Security;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Grains.Storage.Postgres;

namespace OrleansCoord.Silo.Configuration;

/// <summary>A configuration error that names the offending key; the server refuses to start.</summary>
public sealed class ZooCfgException(string key, string message) : Exception($"Invalid configuration: {key}: {message}")
{
    public string Key { get; } = key;
}

/// <summary>
/// zoo.cfg as ZooKeeper reads it: key=value lines from a file given with --config, overridden by
/// --key value pairs on the command line, then typed and validated key by key.
/// </summary>
public sealed class ZooCfg
{
    /// <summary>Keys ZooKeeper knows that this server accepts but does not act on yet.</summary>
    private static readonly HashSet<string> AcceptedKeys = new(StringComparer.Ordinal)
    {
        "initLimit", "syncLimit",
        "maxCnxns", "globalOutstandingLimit", "standaloneEnabled", "reconfigEnabled", "metricsProvider.className",
        "metricsProvider.httpPort", "electionAlg", "serverCnxnFactory", "authProvider.x509",
        "ssl.protocol", "ssl.enabledProtocols", "ssl.ciphersuites", "ssl.hostnameVerification",
        "localSessionsEnabled", "localSessionsUpgradingEnabled",
        "digest.enabled",
        "clientPortListenBacklog", "snapSizeLimitInKb", "txnLogSizeLimitInKb", "commitLogCount", "quorumListenOnAllIPs",
    };

    private static readonly HashSet<string> TypedKeys = new(StringComparer.Ordinal)
    {
        "clientPort", "clientPortAddress", "tickTime", "minSessionTimeout", "maxSessionTimeout", "maxClientCnxns", "dataDir",
        "dataLogDir", "jute.maxbuffer", "4lw.commands.whitelist", "skipACL", "DigestAuthenticationProvider.superDigest",
        "zookeeper.DigestAuthenticationProvider.superDigest", "myid", "orleans.siloPort", "orleans.gatewayPort",
        "znode.container.checkIntervalMs", "znode.container.maxPerMinute", "snapCount", "preAllocSize", "forceSync",
        "autopurge.snapRetainCount", "autopurge.purgeInterval", "storage", "postgres.connectionString",
        "orleans.clusterId", "orleans.advertisedAddress", "peerType", "orleans.role", "extendedTypesEnabled",
        "zookeeper.extendedTypesEnabled", "znode.container.maxNeverUsedIntervalMs", "admin.enableServer", "admin.serverPort",
        "admin.serverAddress", "admin.commandURL", "secureClientPort", "secureClientPortAddress", "ssl.keyStore.location",
        "ssl.keyStore.password", "ssl.keyStore.type", "ssl.trustStore.location", "ssl.trustStore.password", "ssl.trustStore.type",
        "ssl.clientAuth", "X509AuthenticationProvider.superUser", "zookeeper.X509AuthenticationProvider.superUser",
        "enforceQuota", "zookeeper.enforceQuota", "readonlymode.enabled", "audit.enable", "zookeeper.audit.enable",
        "orleans.dashboard", "java.security.auth.login.config", "zookeeper.sasl.serverconfig", "zookeeper.superUser",
        "orleans.probeTimeoutMs", "orleans.missedProbesLimit", "readCache.nodes", "readCache.bytes",
    };

    public IReadOnlyDictionary<string, string> Values { get; private init; } = new Dictionary<string, string>();

    public List<string> IgnoredKeys { get; } = [];

    public int ClientPort { get; private set; } = 2181;

    public IPAddress ClientPortAddress { get; private set; } = IPAddress.Loopback;

    public int TickTime { get; private set; } = 2000;

    public int MinSessionTimeout { get; private set; } = -1;

    public int MaxSessionTimeout { get; private set; } = -1;

    public int MaxClientCnxns { get; private set; } = 60;

    public int ReadCacheNodes { get; private set; } = new GatewayOptions().ReadCacheNodes;

    public long ReadCacheBytes { get; private set; } = new GatewayOptions().ReadCacheBytes;

    public string DataDir { get; private set; } = Path.GetFullPath("data");

    public string DataLogDir { get; private set; } = "";

    public int JuteMaxBuffer { get; private set; } = 0xfffff;

    public HashSet<string> FourLetterWordWhitelist { get; } = new(StringComparer.Ordinal) { "srvr" };

    public bool SkipAcl { get; private set; }

    public string? SuperDigest { get; private set; }

    public long ServerId { get; private set; }

    public int ContainerCheckIntervalMs { get; private set; } = 60000;

    public int ContainerMaxPerMinute { get; private set; } = 10000;

    public long ContainerMaxNeverUsedIntervalMs { get; private set; }

    public bool ExtendedTypesEnabled { get; private set; }

    public bool EnforceQuota { get; private set; }

    public bool ReadOnlyModeEnabled { get; private set; }

    public bool AuditEnabled { get; private set; }

    public bool AdminEnableServer { get; private set; } = true;

    /// <summary>orleans.dashboard: the Orleans Dashboard on the AdminServer's port, at /dashboard.</summary>
    public bool Dashboard { get; private set; }

    /// <summary>admin.serverAddress; null until set, then the client port's address stands in.</summary>
    public IPAddress? AdminServerAddress { get; private set; }

    public int AdminServerPort { get; private set; } = 8080;

    public string AdminCommandUrl { get; private set; } = "/commands";

    /// <summary>secureClientPort; -1 when there is none.</summary>
    public int SecureClientPort { get; private set; } = -1;

    public IPAddress? SecureClientPortAddress { get; private set; }

    public TlsOptions Tls { get; } = new();

    public string? X509SuperUser { get; private set; }

    /// <summary>java.security.auth.login.config: the JAAS file whose server section lists SASL DIGEST-MD5 users.</summary>
    public string? JaasConfigFile { get; private set; }

    /// <summary>zookeeper.sasl.serverconfig: that section's name.</summary>
    public string JaasSection { get; private set; } = "Server";

    /// <summary>The SASL users read from the JAAS file; null without one.</summary>
    public IReadOnlyDictionary<string, string>? SaslUsers { get; private set; }

    /// <summary>zookeeper.superUser: the SASL authorization id that is the super user.</summary>
    public string? SaslSuperUser { get; private set; }

    /// <summary>
    /// The ACL schemes of the authentication providers: digest and ip always, x509 with a secure client port or
    /// authProvider.N=...X509AuthenticationProvider, sasl with a JAAS file or ...SASLAuthenticationProvider.
    /// </summary>
    public HashSet<string> AclSchemes { get; } = new(AuthenticationProviders.Default, StringComparer.Ordinal);

    public int SnapCount { get; private set; } = 100000;

    public int PreAllocSizeKb { get; private set; } = 65536;

    public bool ForceSync { get; private set; } = true;

    public int SnapRetainCount { get; private set; } = 3;

    public int PurgeIntervalHours { get; private set; }

    /// <summary>Where the txn log and snapshots live: files in dataDir and dataLogDir, or PostgreSQL.</summary>
    public bool UsePostgres { get; private set; }

    public string PostgresConnectionString { get; private set; } = "";

    /// <summary>The Orleans cluster the silos of one service form; silos with the same database and id find each other.</summary>
    public string ClusterId { get; private set; } = "orleanscoord";

    /// <summary>The address other silos reach this one at.</summary>
    public IPAddress AdvertisedAddress { get; private set; } = IPAddress.Loopback;

    /// <summary>peerType: a participant may order writes; an observer only serves clients and holds data.</summary>
    public PeerType PeerType { get; private set; } = PeerType.Participant;

    /// <summary>orleans.role=gateway: this process only serves clients, as an Orleans client of a cluster's silos.</summary>
    public bool GatewayOnly { get; private set; }

    public int SiloPort { get; private set; }

    public int OrleansGatewayPort { get; private set; }

    /// <summary>orleans.probeTimeoutMs: how long a silo's answer to a liveness probe may take; unset keeps the cluster's default.</summary>
    public TimeSpan? ProbeTimeout { get; private set; }

    /// <summary>orleans.missedProbesLimit: probes in a row a silo may miss before the others vote it dead.</summary>
    public int? MissedProbesLimit { get; private set; }

    /// <summary>The keys the coordination grains obey.</summary>
    public void Configure(CoordinationOptions o)
    {
        o.TickTime = TickTime;
        o.SkipAcl = SkipAcl;
        o.SuperDigest = SuperDigest;
        o.AclSchemes = AclSchemes;
        o.ServerId = ServerId;
        o.ContainerCheckIntervalMs = ContainerCheckIntervalMs;
        o.ContainerMaxPerMinute = ContainerMaxPerMinute;
        o.ContainerMaxNeverUsedIntervalMs = ContainerMaxNeverUsedIntervalMs;
        o.ExtendedTypesEnabled = ExtendedTypesEnabled;
        o.EnforceQuota = EnforceQuota;
        o.Standalone = !UsePostgres;
        o.AuditEnabled = AuditEnabled;
        o.SnapCount = SnapCount;
        o.SnapRetainCount = SnapRetainCount;
        o.PurgeIntervalHours = PurgeIntervalHours;
    }

    /// <summary>The keys the standalone file storage obeys.</summary>
    public void Configure(FileStorageOptions o)
    {
        o.DataDir = DataDir;
        o.DataLogDir = DataLogDir;
        o.ForceSync = ForceSync;
        o.PreAllocSizeKb = PreAllocSizeKb;
    }

    /// <summary>The keys the client port obeys.</summary>
    public void Configure(GatewayOptions o)
    {
        o.ClientPort = ClientPort;
        o.ClientPortAddress = ClientPortAddress;
        o.TickTime = TickTime;
        o.MinSessionTimeout = MinSessionTimeout;
        o.MaxSessionTimeout = MaxSessionTimeout;
        o.MaxClientCnxns = MaxClientCnxns;
        o.ReadCacheNodes = ReadCacheNodes;
        o.ReadCacheBytes = ReadCacheBytes;
        o.JuteMaxBuffer = JuteMaxBuffer;
        o.FourLetterWordWhitelist = FourLetterWordWhitelist;
        o.DataDir = DataDir;
        o.DataLogDir = DataLogDir;
        o.Standalone = !UsePostgres;
        o.AdminEnableServer = AdminEnableServer;
        o.AdminServerAddress = AdminServerAddress ?? ClientPortAddress;
        o.AdminServerPort = AdminServerPort;
        o.AdminCommandUrl = AdminCommandUrl;
        o.SecureClientPort = SecureClientPort;
        o.SecureClientPortAddress = SecureClientPortAddress ?? ClientPortAddress;
        o.Tls = Tls;
        o.X509SuperUser = X509SuperUser;
        o.SaslUsers = SaslUsers;
        o.SaslSuperUser = SaslSuperUser;
        o.ReadOnlyModeEnabled = ReadOnlyModeEnabled;
        o.Observer = PeerType == PeerType.Observer || GatewayOnly;
    }

    /// <summary>The keys the PostgreSQL storage obeys.</summary>
    public void Configure(PostgresStorageOptions o) => o.ConnectionString = PostgresConnectionString;

    /// <summary>Failure detection, where the keys give it: a longer wait rides out longer pauses, and finds a dead silo later.</summary>
    public void Configure(Orleans.Configuration.ClusterMembershipOptions o)
    {
        o.ProbeTimeout = ProbeTimeout ?? o.ProbeTimeout;
        o.NumMissedProbesLimit = MissedProbesLimit ?? o.NumMissedProbesLimit;
    }

    /// <summary>Reads --config FILE and --key value arguments; throws <see cref="ZooCfgException"/> on a bad value.</summary>
    public static ZooCfg Load(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        string? file = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new ZooCfgException(arg, "expected --key value");
            }

            var key = arg[2..];
            string value;
            var eq = key.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                value = key[(eq + 1)..];
                key = key[..eq];
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            else
            {
                throw new ZooCfgException(key, "missing value");
            }

            if (key == "config")
            {
                file = value;
            }
            else
            {
                overrides[key] = value;
            }
        }

        if (file is not null)
        {
            if (!File.Exists(file))
            {
                throw new ZooCfgException("config", $"file '{file}' does not exist");
            }

            foreach (var raw in File.ReadAllLines(file))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                var eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new ZooCfgException(line, $"line in '{file}' is not key=value");
                }

                values[line[..eq].Trim()] = line[(eq + 1)..].Trim();
            }
        }

        foreach (var (key, value) in overrides)
        {
            values[key] = value;
        }

        var cfg = new ZooCfg { Values = values };
        cfg.Apply();
        return cfg;
    }

    private void Apply()
    {
        foreach (var (key, value) in Values)
        {
            switch (key)
            {
                case "clientPort":
                    ClientPort = Int(key, value, 0, 65535);
                    break;
                case "clientPortAddress":
                    ClientPortAddress = Address(key, value);
                    break;
                case "tickTime":
                    TickTime = Int(key, value, 1, int.MaxValue);
                    break;
                case "minSessionTimeout":
                    MinSessionTimeout = Int(key, value, -1, int.MaxValue);
                    break;
                case "maxSessionTimeout":
                    MaxSessionTimeout = Int(key, value, -1, int.MaxValue);
                    break;
                case "maxClientCnxns":
                    MaxClientCnxns = Int(key, value, 0, int.MaxValue);
                    break;
                case "readCache.nodes":
                    ReadCacheNodes = Int(key, value, 0, int.MaxValue);
                    break;
                case "readCache.bytes":
                    ReadCacheBytes = Long(key, value, 0, long.MaxValue);
                    break;
                case "dataDir":
                    DataDir = NonEmpty(key, value);
                    break;
                case "dataLogDir":
                    DataLogDir = NonEmpty(key, value);
                    break;
                case "jute.maxbuffer":
                    JuteMaxBuffer = Int(key, value, 1, int.MaxValue);
                    break;
                case "4lw.commands.whitelist":
                    FourLetterWordWhitelist.Clear();
                    foreach (var word in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (word != "*" && !Protocol.Framing.FourLetterWords.All.Contains(word))
                        {
                            throw new ZooCfgException(key, $"'{word}' is not a four-letter word");
                        }

                        FourLetterWordWhitelist.Add(word);
                    }

                    break;
                case "skipACL":
                    SkipAcl = YesNo(key, value);
                    break;
                case "forceSync":
                    ForceSync = YesNo(key, value);
                    break;
                case "snapCount":
                    SnapCount = Int(key, value, 2, int.MaxValue);
                    break;
                case "preAllocSize":
                    PreAllocSizeKb = Int(key, value, 1, int.MaxValue / 1024);
                    break;
                case "autopurge.snapRetainCount":
                    // ZooKeeper raises a smaller count to 3 rather than refusing it.
                    SnapRetainCount = Math.Max(3, Int(key, value, 0, int.MaxValue));
                    break;
                case "autopurge.purgeInterval":
                    PurgeIntervalHours = Int(key, value, 0, int.MaxValue / 3600);
                    break;
                case "DigestAuthenticationProvider.superDigest" or "zookeeper.DigestAuthenticationProvider.superDigest":
                    SuperDigest = value.Contains(':', StringComparison.Ordinal) ? value : throw new ZooCfgException(key, "expected super:base64(sha1)");
                    break;
                case "znode.container.checkIntervalMs":
                    ContainerCheckIntervalMs = Int(key, value, 1, int.MaxValue);
                    break;
                case "znode.container.maxPerMinute":
                    ContainerMaxPerMinute = Int(key, value, 1, int.MaxValue);
                    break;
                case "znode.container.maxNeverUsedIntervalMs":
                    ContainerMaxNeverUsedIntervalMs = Long(key, value, 0, long.MaxValue);
                    break;
                case "audit.enable" or "zookeeper.audit.enable":
                    AuditEnabled = YesNo(key, value);
                    break;
                case "readonlymode.enabled":
                    ReadOnlyModeEnabled = YesNo(key, value);
                    break;
                case "enforceQuota" or "zookeeper.enforceQuota":
                    EnforceQuota = YesNo(key, value);
                    break;
                case "extendedTypesEnabled" or "zookeeper.extendedTypesEnabled":
                    ExtendedTypesEnabled = YesNo(key, value);
                    break;
                case "admin.enableServer":
                    AdminEnableServer = YesNo(key, value);
                    break;
                case "admin.serverAddress":
                    AdminServerAddress = Address(key, value);
                    break;
                case "admin.serverPort":
                    AdminServerPort = Int(key, value, 0, 65535);
                    break;
                case "admin.commandURL":
                    AdminCommandUrl = value.StartsWith('/') ? value : throw new ZooCfgException(key, "expected a path starting with /");
                    break;
                case "secureClientPort":
                    SecureClientPort = Int(key, value, 0, 65535);
                    break;
                case "secureClientPortAddress":
                    SecureClientPortAddress = Address(key, value);
                    break;
                case "ssl.keyStore.location":
                    Tls.KeyStoreLocation = NonEmpty(key, value);
                    break;
                case "ssl.keyStore.password":
                    Tls.KeyStorePassword = value;
                    break;
                case "ssl.keyStore.type":
                    Tls.KeyStoreType = StoreType(key, value);
                    break;
                case "ssl.trustStore.location":
                    Tls.TrustStoreLocation = NonEmpty(key, value);
                    break;
                case "ssl.trustStore.password":
                    Tls.TrustStorePassword = value;
                    break;
                case "ssl.trustStore.type":
                    Tls.TrustStoreType = StoreType(key, value);
                    break;
                case "ssl.clientAuth":
                    Tls.ClientAuth = OneOf(key, value.ToLowerInvariant(), ("none", ClientAuth.None), ("want", ClientAuth.Want), ("need", ClientAuth.Need));
                    break;
                case "X509AuthenticationProvider.superUser" or "zookeeper.X509AuthenticationProvider.superUser":
                    X509SuperUser = NonEmpty(key, value);
                    break;
                case "myid":
                    ServerId = Int(key, value, 0, 255);
                    break;
                case "storage":
                    UsePostgres = OneOf(key, value, ("file", false), ("postgres", true));
                    break;
                case "postgres.connectionString":
                    PostgresConnectionString = NonEmpty(key, value);
                    break;
                case "peerType":
                    PeerType = OneOf(key, value, ("participant", PeerType.Participant), ("observer", PeerType.Observer));
                    break;
                case "java.security.auth.login.config":
                    JaasConfigFile = NonEmpty(key, value);
                    break;
                case "zookeeper.sasl.serverconfig":
                    JaasSection = NonEmpty(key, value);
                    break;
                case "zookeeper.superUser":
                    SaslSuperUser = NonEmpty(key, value);
                    break;
                case "orleans.dashboard":
                    Dashboard = YesNo(key, value);
                    break;
                case "orleans.role":
                    GatewayOnly = OneOf(key, value, ("silo", false), ("gateway", true));
                    break;
                case "orleans.clusterId":
                    ClusterId = NonEmpty(key, value);
                    break;
                case "orleans.advertisedAddress":
                    AdvertisedAddress = Address(key, value);
                    break;
                case "orleans.siloPort":
                    SiloPort = Int(key, value, 0, 65535);
                    break;
                case "orleans.gatewayPort":
                    OrleansGatewayPort = Int(key, value, 0, 65535);
                    break;
                case "orleans.probeTimeoutMs":
                    ProbeTimeout = TimeSpan.FromMilliseconds(Int(key, value, 100, 600_000));
                    break;
                case "orleans.missedProbesLimit":
                    MissedProbesLimit = Int(key, value, 1, 10);
                    break;
                case var provider when provider.StartsWith("authProvider.", StringComparison.Ordinal) || provider.StartsWith("zookeeper.authProvider.", StringComparison.Ordinal):
                    AclSchemes.Add(value switch
                    {
                        "org.apache.zookeeper.server.auth.SASLAuthenticationProvider" => AuthenticationProviders.Sasl,
                        "org.apache.zookeeper.server.auth.X509AuthenticationProvider" => AuthenticationProviders.X509,
                        "org.apache.zookeeper.server.auth.DigestAuthenticationProvider" => AuthenticationProviders.Digest,
                        "org.apache.zookeeper.server.auth.IPAuthenticationProvider" => AuthenticationProviders.Ip,
                        _ => throw new ZooCfgException(key, $"'{value}' is not one of the built-in authentication providers (SASL, X509, Digest, IP)"),
                    });
                    break;
                default:
                    if (!AcceptedKeys.Contains(key) && !TypedKeys.Contains(key) && !key.StartsWith("server.", StringComparison.Ordinal))
                    {
                        // ZooKeeper turns unknown keys into system properties; keep them for conf, but say so.
                        IgnoredKeys.Add(key);
                    }

                    break;
            }
        }

        if (MinSessionTimeout > 0 && MaxSessionTimeout > 0 && MinSessionTimeout > MaxSessionTimeout)
        {
            throw new ZooCfgException("minSessionTimeout", $"{MinSessionTimeout} is larger than maxSessionTimeout {MaxSessionTimeout}");
        }

        if (SecureClientPort >= 0 && Tls.KeyStoreLocation.Length == 0)
        {
            throw new ZooCfgException("ssl.keyStore.location", "secureClientPort needs the server's certificate and key");
        }

        if (ExtendedTypesEnabled && ServerId > 254)
        {
            // TTL nodes mark their ephemeralOwner with a top byte of 0xff, which session ids of server 255 would share.
            throw new ZooCfgException("myid", $"{ServerId} is too large with extendedTypesEnabled: it cannot be larger than 254");
        }

        if (PeerType == PeerType.Observer && !UsePostgres)
        {
            throw new ZooCfgException("peerType", "an observer needs a cluster to observe (storage=postgres)");
        }

        if (JaasConfigFile is not null)
        {
            SaslUsers = JaasConfig.ReadUsers("java.security.auth.login.config", JaasConfigFile, JaasSection);
            AclSchemes.Add(AuthenticationProviders.Sasl);
        }

        if (SecureClientPort >= 0)
        {
            AclSchemes.Add(AuthenticationProviders.X509);
        }

        if (Dashboard && !AdminEnableServer)
        {
            throw new ZooCfgException("orleans.dashboard", "the dashboard is served on the AdminServer's port, so it needs admin.enableServer");
        }

        if (GatewayOnly && !UsePostgres)
        {
            throw new ZooCfgException("orleans.role", "a gateway needs a cluster to serve (storage=postgres)");
        }

        if (UsePostgres && PostgresConnectionString.Length == 0)
        {
            throw new ZooCfgException("postgres.connectionString", "must be set when storage is postgres");
        }

        if (DataLogDir.Length == 0)
        {
            DataLogDir = DataDir;
        }
    }

    private static long Long(string key, string value, long min, long max)
    {
        if (!long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result))
        {
            throw new ZooCfgException(key, $"'{value}' is not an integer");
        }

        return result >= min && result <= max ? result : throw new ZooCfgException(key, $"{result} is outside {min}..{max}");
    }

    private static int Int(string key, string value, int min, int max) => (int)Long(key, value, min, max);

    private static bool YesNo(string key, string value) => value.ToLowerInvariant() switch
    {
        "yes" or "true" => true,
        "no" or "false" => false,
        _ => throw new ZooCfgException(key, $"'{value}' is not yes or no"),
    };

    /// <summary>The value a key's word stands for; any other word is refused with the words allowed.</summary>
    private static T OneOf<T>(string key, string value, params (string Word, T Value)[] choices)
    {
        foreach (var (word, result) in choices)
        {
            if (word == value)
            {
                return result;
            }
        }

        throw new ZooCfgException(key, $"'{value}' is not {string.Join(" or ", choices.Select(c => c.Word))}");
    }

    private static IPAddress Address(string key, string value) =>
        IPAddress.TryParse(value, out var address) ? address : throw new ZooCfgException(key, $"'{value}' is not an IP address");

    private static string StoreType(string key, string value) =>
        value.ToUpperInvariant() is var type && type is "PEM" or "PKCS12"
            ? type
            : throw new ZooCfgException(key, $"'{value}' is not supported: use PEM or PKCS12 (JKS stores can be converted with keytool -importkeystore)");

    private static string NonEmpty(string key, string value) =>
        value.Length > 0 ? value : throw new ZooCfgException(key, "must not be empty");
}
