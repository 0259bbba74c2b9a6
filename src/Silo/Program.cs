using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenTelemetry.Metrics;
using Orleans.Dashboard;
using OrleansCoord.Gateway.Admin;
using OrleansCoord.Gateway.Hosting;
using OrleansCoord.Grains.QuorumLog;
using OrleansCoord.Grains.Hosting;
using OrleansCoord.Silo.Configuration;
using OrleansCoord.Silo.Tools;

if (DataDirCommands.Handles(args))
{
    return await DataDirCommands.RunAsync(args);
}

ZooCfg cfg;
TlsCertificates? tls = null;
try
{
    cfg = ZooCfg.Load(args);
    Directory.CreateDirectory(cfg.DataDir);
    Directory.CreateDirectory(cfg.DataLogDir);
    if (cfg.SecureClientPort >= 0)
    {
        tls = TlsCertificates.Load(cfg.Tls);
    }
}
catch (Exception ex) when (ex is ZooCfgException or TlsConfigurationException or IOException or UnauthorizedAccessException)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.SetMinimumLevel(LogLevel.Information);
builder.Logging.AddFilter("Orleans", LogLevel.Warning);

// Category filters match by prefix, so "Orleans" alone would also quiet this server's own OrleansCoord.* logs.
builder.Logging.AddFilter("OrleansCoord", LogLevel.Information);
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
builder.Logging.AddFilter("Polly", LogLevel.Warning);

if (cfg.GatewayOnly)
{
    // A gateway of its own: an Orleans client of the cluster's silos, scaling connections apart from them.
    builder.UseOrleansClient(client =>
    {
        client.UsePostgresClustering(cfg.ClusterId, cfg.Configure);
        if (cfg.Dashboard)
        {
            client.AddDashboard();
        }
    });
    builder.Services.AddOptions<CoordinationOptions>().Configure(cfg.Configure);
}
else
{
    builder.UseOrleans(silo =>
    {
        silo.AddCoordination(cfg.Configure, cfg.PeerType);
        if (cfg.Dashboard)
        {
            // It listens to Orleans' own meters, which costs read throughput: served only when asked for.
            silo.AddDashboard();
        }

        if (cfg.UsePostgres)
        {
            // Every silo on the same database and cluster id joins one cluster: standalone, pseudo-cluster or cluster.
            silo.ConfigureEndpoints(cfg.AdvertisedAddress, FreePortIfZero(cfg.SiloPort), FreePortIfZero(cfg.OrleansGatewayPort), listenOnAnyHostAddress: false);
            silo.UsePostgresStorage(cfg.Configure);
            silo.UsePostgresClustering(cfg.ClusterId);
            silo.Configure<Orleans.Configuration.ClusterMembershipOptions>(cfg.Configure);
        }
        else
        {
            silo.UseLocalhostClustering(FreePortIfZero(cfg.SiloPort), FreePortIfZero(cfg.OrleansGatewayPort));
            silo.UseFileStorage(cfg.Configure);
        }
    });
}

var gateway = new GatewayOptions();
cfg.Configure(gateway);
builder.Services.AddZooKeeperGateway(cfg.Configure);

// ZooKeeper's Prometheus metrics, scraped from /metrics on the AdminServer's port, and pushed over OTLP when
// OpenTelemetry's standard variables name a collector (OTEL_EXPORTER_OTLP_ENDPOINT, _PROTOCOL, OTEL_METRIC_EXPORT_INTERVAL).
// Orleans' own meters stay off: listening to them cost about a fifth of read throughput here.
builder.Services.AddOpenTelemetry().WithMetrics(metrics =>
{
    metrics.AddMeter(GatewayMetrics.MeterName, QuorumLogGrain.MeterName).AddPrometheusExporter();
    if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"))
        || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")))
    {
        metrics.AddOtlpExporter();
    }
});

// ZooKeeper serves its AdminServer by default; a port another process holds costs the admin commands, not the service.
var adminBusy = gateway.AdminEnableServer && !CanBind(gateway.AdminServerAddress, gateway.AdminServerPort);
ListenOptions? admin = null;
ListenOptions? secure = null;
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.ListenZooKeeperClientPort(gateway);
    if (tls is not null)
    {
        kestrel.ListenZooKeeperSecureClientPort(gateway, tls, listen => secure = listen);
    }

    if (gateway.AdminEnableServer && !adminBusy)
    {
        kestrel.ListenAdminServer(gateway, listen => admin = listen);
    }
});

const string DashboardPath = "/dashboard";
var app = builder.Build();
app.MapAdminCommands(gateway);
app.MapPrometheusScrapingEndpoint("/metrics");
if (cfg.Dashboard)
{
    app.MapOrleansDashboard(DashboardPath);
}

var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OrleansCoord");
foreach (var key in cfg.IgnoredKeys)
{
    log.LogWarning(new EventId(1, "UnknownKey"), "zoo.cfg key {Key} is not known to this server and has no effect", key);
}

if (adminBusy)
{
    log.LogWarning(new EventId(3, "AdminServerPortBusy"), "AdminServer not started: {Address}:{Port} is in use (admin.serverPort)", gateway.AdminServerAddress, gateway.AdminServerPort);
}

try
{
    await app.StartAsync();
}
catch (Exception ex) when (ex is not OperationCanceledException)
{
    // A start that cannot complete (the txn log held by another server, storage unreachable) ends with the reason,
    // not a crash dump.
    log.LogCritical(new EventId(2, "StartFailed"), ex, "OrleansCoord could not start");
    await Console.Error.WriteLineAsync($"OrleansCoord could not start: {ex.Message}");
    return 1;
}
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "";
var port = new Uri(address).Port;

// /zookeeper/config lists where clients reach this gateway: its address, or the advertised one when it listens on all.
var clientHost = cfg.ClientPortAddress.Equals(IPAddress.Any) || cfg.ClientPortAddress.Equals(IPAddress.IPv6Any) ? cfg.AdvertisedAddress : cfg.ClientPortAddress;
// IPEndPoint brackets an IPv6 address, as ZooKeeper's dynamic config writes one.
app.Services.GetRequiredService<GatewayServer>().ClientEndpoint = new IPEndPoint(clientHost, port).ToString();

// Tests and scripts wait for the serving line, which also gives the port when clientPort is 0; the AdminServer's
// address comes first, so that it is known by then.
var mode = cfg.GatewayOnly ? $"gateway of cluster {cfg.ClusterId}"
    : cfg.UsePostgres ? $"cluster {cfg.ClusterId}, txn log in PostgreSQL"
    : $"standalone, dataDir {cfg.DataDir}";
if (secure?.IPEndPoint is { } secureEndPoint)
{
    Console.WriteLine($"TLS client port on {secureEndPoint}");
}

if (admin?.IPEndPoint is { } adminEndPoint)
{
    Console.WriteLine($"AdminServer on http://{adminEndPoint}{gateway.AdminCommandUrl}");
    if (cfg.Dashboard)
    {
        Console.WriteLine($"Orleans Dashboard on http://{adminEndPoint}{DashboardPath}/");
    }
}

Console.WriteLine($"OrleansCoord serving ZooKeeper clients on {cfg.ClientPortAddress}:{port} ({mode})");

await app.WaitForShutdownAsync();
return 0;

static bool CanBind(IPAddress address, int port)
{
    if (port == 0)
    {
        return true;
    }

    try
    {
        using var probe = new TcpListener(address, port);
        probe.Start();
        return true;
    }
    catch (SocketException)
    {
        return false;
    }
}

static int FreePortIfZero(int port)
{
    if (port != 0)
    {
        return port;
    }

    using var probe = new TcpListener(IPAddress.Loopback, 0);
    probe.Start();
    return ((IPEndPoint)probe.LocalEndpoint).Port;
}
