using Microsoft.Extensions.DependencyInjection;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Grains.Storage.Postgres;

namespace OrleansCoord.Grains.Hosting;

/// <summary>The txn log and snapshot store of one storage mode, for a silo or for a tool that works on its data.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>The txn log and snapshots in files under dataDir and dataLogDir: the standalone mode.</summary>
    public static IServiceCollection AddFileStorage(this IServiceCollection services, Action<FileStorageOptions> configure)
    {
        services.AddOptions<FileStorageOptions>()
            .Configure(configure)
            .Validate(o => o.DataDir.Length > 0, "dataDir must be set")
            .Validate(o => o.PreAllocSizeKb > 0, "preAllocSize must be positive")
            .ValidateOnStart();
        services.AddSingleton<ITxnLog, FileTxnLog>();
        services.AddSingleton<ISnapshotStore, FileSnapshotStore>();
        return services;
    }

    /// <summary>The txn log and snapshots in PostgreSQL (tables from deploy/postgres/orleanscoord.sql).</summary>
    public static IServiceCollection AddPostgresStorage(this IServiceCollection services, Action<PostgresStorageOptions> configure)
    {
        services.AddPostgresDataSource(configure);
        services.AddSingleton<ITxnLog, PostgresTxnLog>();
        services.AddSingleton<ISnapshotStore, PostgresSnapshotStore>();
        return services;
    }
}
