using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Messaging;
using OrleansCoord.Grains.Storage.Postgres;

namespace OrleansCoord.Grains.Hosting;

/// <summary>Lets a process outside the cluster (a gateway of its own) reach the coordination grains.</summary>
public static class CoordinationClientBuilderExtensions
{
    /// <summary>Finds the cluster's silos in its PostgreSQL membership table and keeps trying while none is up.</summary>
    public static IClientBuilder UsePostgresClustering(this IClientBuilder builder, string clusterId, Action<PostgresStorageOptions> configure)
    {
        builder.Configure<ClusterOptions>(o => o.Identify(clusterId));
        builder.Services.AddPostgresDataSource(configure);
        builder.Services.AddSingleton<IGatewayListProvider, PostgresGatewayListProvider>();
        builder.UseConnectionRetryFilter(static async (_, cancellationToken) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            return true;
        });
        return builder;
    }
}
