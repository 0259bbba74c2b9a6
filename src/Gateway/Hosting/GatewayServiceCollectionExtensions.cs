using Microsoft.Extensions.DependencyInjection.Extensions;
using OrleansCoord.Grains.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace OrleansCoord.Gateway.Hosting;

/// <summary>Registers the ZooKeeper client-port gateway.</summary>
public static class GatewayServiceCollectionExtensions
{
    public static IServiceCollection AddZooKeeperGateway(this IServiceCollection services, Action<GatewayOptions> configure)
    {
        services.AddOptions<GatewayOptions>().Configure(configure);
        services.AddSingleton<GatewayServer>();
        services.TryAddSingleton<AuditLog>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayServer>());
        return services;
    }

    /// <summary>
    /// Listens for ZooKeeper clients with TLS on the secure client port. A client certificate is asked for unless
    /// ssl.clientAuth is none, required when it is need, and must chain to the trust store; its subject becomes the
    /// connection's x509 id.
    /// </summary>
    public static KestrelServerOptions ListenZooKeeperSecureClientPort(this KestrelServerOptions kestrel, GatewayOptions options, TlsCertificates certificates, Action<ListenOptions> listening)
    {
        kestrel.Listen(options.SecureClientPortAddress, options.SecureClientPort, listen =>
        {
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = certificates.Server,
                ClientCertificateMode = options.Tls.ClientAuth switch
                {
                    ClientAuth.Need => ClientCertificateMode.RequireCertificate,
                    ClientAuth.Want => ClientCertificateMode.AllowCertificate,
                    _ => ClientCertificateMode.NoCertificate,
                },
                ClientCertificateValidation = (certificate, _, _) => certificates.IsTrusted(certificate),
                CheckCertificateRevocation = false,
            });
            listen.UseConnectionHandler<ZooKeeperConnectionHandler>();
            listening(listen);
        });
        return kestrel;
    }

    /// <summary>Listens for ZooKeeper clients on the configured client port.</summary>
    public static KestrelServerOptions ListenZooKeeperClientPort(this KestrelServerOptions kestrel, GatewayOptions options)
    {
        kestrel.Listen(options.ClientPortAddress, options.ClientPort, listen => listen.UseConnectionHandler<ZooKeeperConnectionHandler>());
        return kestrel;
    }
}
