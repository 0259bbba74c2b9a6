using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace OrleansCoord.Gateway.Hosting;

/// <summary>Registers the ZooKeeper client-port gateway.</summary>
public static class GatewayServiceCollectionExtensions
{
    public static IServiceCollection AddZooKeeperGateway(this IServiceCollection services, Action<GatewayOptions> configure)
    {
        services.AddOptions<GatewayOptions>().Configure(configure);
        services.AddSingleton<GatewayServer>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayServer>());
        return services;
    }

    /// <summary>Listens for ZooKeeper clients on the configured client port.</summary>
    public static KestrelServerOptions ListenZooKeeperClientPort(this KestrelServerOptions kestrel, GatewayOptions options)
    {
        kestrel.Listen(options.ClientPortAddress, options.ClientPort, listen => listen.UseConnectionHandler<ZooKeeperConnectionHandler>());
        return kestrel;
    }
}
