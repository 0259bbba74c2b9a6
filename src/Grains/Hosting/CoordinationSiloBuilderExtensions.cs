using Microsoft.Extensions.DependencyInjection.Extensions;
using OrleansCoord.Grains.Security;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Grains.Storage.Postgres;

namespace OrleansCoord.Grains.Hosting;

/// <summary>Registers the coordination grains' services on a silo.</summary>
public static class CoordinationSiloBuilderExtensions
{
    /// <summary>How often a silo reads the membership table, and so how long a silo declared dead may serve unaware.</summary>
    private static readonly TimeSpan TableRefresh = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Adds the coordination core; storage comes from a <c>Use*Storage</c> call. An observer silo never hosts the
    /// quorum-log grain.
    /// </summary>
    public static ISiloBuilder AddCoordination(this ISiloBuilder builder, Action<CoordinationOptions>? configure = null, PeerType peerType = PeerType.Participant)
    {
        builder.UseSiloMetadata(new Dictionary<string, string> { [ParticipantsOnlyPlacementFilterDirector.PeerTypeKey] = peerType.ToString() });
        builder.Services.AddPlacementFilter<ParticipantsOnlyPlacementFilter, ParticipantsOnlyPlacementFilterDirector>(ServiceLifetime.Singleton);
        builder.Services.TryAddSingleton<AuditLog>();
        builder.Services.AddOptions<CoordinationOptions>()
            .Configure(o => configure?.Invoke(o))
            .Validate(o => o.SnapCount >= 2, "snapCount must be at least 2")
            .Validate(o => o.PurgeIntervalHours >= 0, "autopurge.purgeInterval must not be negative")
            .ValidateOnStart();
        return builder;
    }

    /// <summary>Keeps the txn log and snapshots in files under dataDir and dataLogDir: the standalone mode.</summary>
    public static ISiloBuilder UseFileStorage(this ISiloBuilder builder, Action<FileStorageOptions> configure)
    {
        builder.Services.AddFileStorage(configure);
        return builder;
    }

    /// <summary>Keeps the txn log and snapshots in PostgreSQL (tables from deploy/postgres/orleanscoord.sql).</summary>
    public static ISiloBuilder UsePostgresStorage(this ISiloBuilder builder, Action<PostgresStorageOptions> configure)
    {
        builder.Services.AddPostgresStorage(configure);
        return builder;
    }

    /// <summary>
    /// Makes the silo a member of the cluster whose membership table lives in the PostgreSQL database of
    /// <see cref="UsePostgresStorage"/>, with failure detection tuned so that a dead silo's grains move within seconds.
    /// </summary>
    public static ISiloBuilder UsePostgresClustering(this ISiloBuilder builder, string clusterId)
    {
        builder.Configure<ClusterOptions>(o => o.Identify(clusterId));
        builder.Configure<ClusterMembershipOptions>(o =>
        {
            // A silo that misses two half-second probes is suspected; one vote declares it dead, which a cluster
            // of two or three silos needs, and the table is re-read often so the others learn it fast.
            o.ProbeTimeout = TimeSpan.FromMilliseconds(500);
            o.NumMissedProbesLimit = 2;
            o.NumVotesForDeathDeclaration = 1;
            o.TableRefreshTimeout = TableRefresh;
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
        });
        builder.Services.AddSingleton<IMembershipTable, PostgresMembershipTable>();

        // Orleans' default directory deactivates every grain whose registration lived on a silo that dies, so losing
        // any follower would restart the quorum-log grain a third of the time (a new epoch, a full recovery, every
        // write waiting). The distributed directory hands a dead silo's registrations over without that.
#pragma warning disable ORLEANSEXP003 // experimental in Orleans 10: the directory its maintainers proposed for this (dotnet/orleans#9074)
        builder.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003

        // After a silo dies, its grains may not register again for this long, in case it still runs unaware. Orleans'
        // 30 s would hold the quorum-log grain, and every write, that long. A silo declared dead finds out at its next
        // table refresh and stops; and an older quorum-log activation could not append anyway (epoch fencing).
        builder.Configure<GrainDirectoryOptions>(o => o.RangeLeaseDuration = TableRefresh);
        return builder;
    }
}
