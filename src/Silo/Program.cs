using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using OrleansCoord.Gateway.Hosting;
using OrleansCoord.Grains.Hosting;
using OrleansCoord.Silo.Configuration;

ZooCfg cfg;
try
{
    cfg = ZooCfg.Load(args);
    Directory.CreateDirectory(cfg.DataDir);
    Directory.CreateDirectory(cfg.DataLogDir);
}
catch (Exception ex) when (ex is ZooCfgException or IOException or UnauthorizedAccessException)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.SetMinimumLevel(LogLevel.Information);
builder.Logging.AddFilter("Orleans", LogLevel.Warning);
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);

builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering(FreePortIfZero(cfg.SiloPort), FreePortIfZero(cfg.OrleansGatewayPort));
    silo.AddCoordination(o =>
    {
        o.TickTime = cfg.TickTime;
        o.SkipAcl = cfg.SkipAcl;
        o.SuperDigest = cfg.SuperDigest;
        o.ServerId = cfg.ServerId;
        o.ContainerCheckIntervalMs = cfg.ContainerCheckIntervalMs;
        o.ContainerMaxPerMinute = cfg.ContainerMaxPerMinute;
    });
});

var gateway = new GatewayOptions();
ConfigureGateway(gateway);
builder.Services.AddZooKeeperGateway(ConfigureGateway);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenZooKeeperClientPort(gateway));

var app = builder.Build();
var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OrleansCoord");
foreach (var key in cfg.IgnoredKeys)
{
    log.LogWarning(new EventId(1, "UnknownKey"), "zoo.cfg key {Key} is not known to this server; it is kept for conf but has no effect", key);
}

await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "";
var port = new Uri(address).Port;

// Tests and scripts wait for this line, which also gives the port when clientPort is 0.
Console.WriteLine($"OrleansCoord serving ZooKeeper clients on {cfg.ClientPortAddress}:{port} (standalone, dataDir {cfg.DataDir})");
await app.WaitForShutdownAsync();
return 0;

void ConfigureGateway(GatewayOptions o)
{
    o.ClientPort = cfg.ClientPort;
    o.ClientPortAddress = cfg.ClientPortAddress;
    o.TickTime = cfg.TickTime;
    o.MinSessionTimeout = cfg.MinSessionTimeout;
    o.MaxSessionTimeout = cfg.MaxSessionTimeout;
    o.MaxClientCnxns = cfg.MaxClientCnxns;
    o.JuteMaxBuffer = cfg.JuteMaxBuffer;
    o.FourLetterWordWhitelist = cfg.FourLetterWordWhitelist;
    o.DataDir = cfg.DataDir;
    o.DataLogDir = cfg.DataLogDir;
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
