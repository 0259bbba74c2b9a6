using System.Net;
using OrleansCoord.Protocol.Framing;

namespace OrleansCoord.Gateway.Hosting;

/// <summary>Client-port settings, named after their zoo.cfg keys.</summary>
public sealed class GatewayOptions
{
    /// <summary>clientPort; 0 picks a free port (printed at start-up).</summary>
    public int ClientPort { get; set; } = 2181;

    /// <summary>clientPortAddress.</summary>
    public IPAddress ClientPortAddress { get; set; } = IPAddress.Loopback;

    /// <summary>secureClientPort: clients connect with TLS here; -1 for none, 0 picks a free port (printed at start-up).</summary>
    public int SecureClientPort { get; set; } = -1;

    /// <summary>secureClientPortAddress; by default the client port's address.</summary>
    public IPAddress SecureClientPortAddress { get; set; } = IPAddress.Loopback;

    /// <summary>The secure client port's key and trust stores.</summary>
    public TlsOptions Tls { get; set; } = new();

    /// <summary>X509AuthenticationProvider.superUser: the x509 id (certificate subject) that is the super user.</summary>
    public string? X509SuperUser { get; set; }

    /// <summary>The SASL DIGEST-MD5 users (JAAS DigestLoginModule's user_NAME="password"); null when SASL is not configured.</summary>
    public IReadOnlyDictionary<string, string>? SaslUsers { get; set; }

    /// <summary>zookeeper.superUser: the SASL authorization id that is the super user.</summary>
    public string? SaslSuperUser { get; set; }

    /// <summary>readonlymode.enabled: clients that allow it get read-only sessions while writes cannot be ordered.</summary>
    public bool ReadOnlyModeEnabled { get; set; }

    /// <summary>tickTime in milliseconds.</summary>
    public int TickTime { get; set; } = 2000;

    /// <summary>minSessionTimeout; -1 means 2 × tickTime.</summary>
    public int MinSessionTimeout { get; set; } = -1;

    /// <summary>maxSessionTimeout; -1 means 20 × tickTime.</summary>
    public int MaxSessionTimeout { get; set; } = -1;

    /// <summary>maxClientCnxns: connections allowed per client IP; 0 means no limit.</summary>
    public int MaxClientCnxns { get; set; } = 60;

    /// <summary>
    /// readCache.nodes: how many nodes' replies to plain reads this gateway keeps until they change, answering them
    /// without a grain call; 0 turns the cache off.
    /// </summary>
    public int ReadCacheNodes { get; set; } = 10_000;

    /// <summary>readCache.bytes: how many bytes of replies the read cache holds at most.</summary>
    public long ReadCacheBytes { get; set; } = 64 << 20;

    /// <summary>jute.maxbuffer: the largest frame accepted, in bytes.</summary>
    public int JuteMaxBuffer { get; set; } = FrameReader.DefaultMaxBuffer;

    /// <summary>4lw.commands.whitelist: the four-letter words answered; "*" for all.</summary>
    public IReadOnlySet<string> FourLetterWordWhitelist { get; set; } = new HashSet<string>(StringComparer.Ordinal) { "srvr" };

    /// <summary>False when the silo is a member of a cluster (PostgreSQL storage); srvr then reports leader, follower or observer.</summary>
    public bool Standalone { get; set; } = true;

    /// <summary>zoo.cfg peerType=observer: this silo never orders writes.</summary>
    public bool Observer { get; set; }

    /// <summary>admin.enableServer: serve the AdminServer's HTTP commands.</summary>
    public bool AdminEnableServer { get; set; } = true;

    /// <summary>admin.serverAddress; by default the client port's address.</summary>
    public IPAddress AdminServerAddress { get; set; } = IPAddress.Loopback;

    /// <summary>admin.serverPort; 0 picks a free port (printed at start-up).</summary>
    public int AdminServerPort { get; set; } = 8080;

    /// <summary>admin.commandURL: where the commands are served.</summary>
    public string AdminCommandUrl { get; set; } = "/commands";

    public string DataDir { get; set; } = "";

    public string DataLogDir { get; set; } = "";

    public int EffectiveMinSessionTimeout => MinSessionTimeout > 0 ? MinSessionTimeout : 2 * TickTime;

    public int EffectiveMaxSessionTimeout => MaxSessionTimeout > 0 ? MaxSessionTimeout : 20 * TickTime;
}
