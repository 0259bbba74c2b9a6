using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace OrleansCoord.Grains.Hosting;

/// <summary>What a silo may do in the ensemble, as zoo.cfg's peerType says.</summary>
public enum PeerType
{
    /// <summary>May host the quorum-log grain and so order writes.</summary>
    Participant,

    /// <summary>Serves clients and hosts subtree grains, but never orders writes: ZooKeeper's observer.</summary>
    Observer,
}

/// <summary>Keeps a grain off observer silos: only participants may host it.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ParticipantsOnlyAttribute() : PlacementFilterAttribute(new ParticipantsOnlyPlacementFilter());

/// <summary>The placement filter behind <see cref="ParticipantsOnlyAttribute"/>.</summary>
public sealed class ParticipantsOnlyPlacementFilter() : PlacementFilterStrategy(0);

/// <summary>Drops observer silos, as their silo metadata names them, from a placement's candidates.</summary>
public sealed class ParticipantsOnlyPlacementFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    /// <summary>The silo metadata key that holds a silo's <see cref="PeerType"/>.</summary>
    public const string PeerTypeKey = "orleanscoord.peerType";

    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos) =>
        silos.Where(silo => metadata.GetSiloMetadata(silo).Metadata.GetValueOrDefault(PeerTypeKey) != nameof(PeerType.Observer));
}
