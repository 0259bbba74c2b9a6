namespace OrleansCoord.Grains.Abstractions;

/// <summary>
/// The applied watermark moving from <see cref="PreviousZxid"/> to <see cref="Zxid"/>, with the watch events
/// of that range for one gateway's connections, in zxid order, the sessions that range closed, and the
/// subtrees whose grains came back as new incarnations (connections with watches in an earlier one must
/// reconnect and SetWatches).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Publication(
    [property: Id(0)] long PreviousZxid,
    [property: Id(1)] long Zxid,
    [property: Id(2)] WatchEvent[] Events,
    [property: Id(3)] long[] ClosedSessions,
    [property: Id(4)] SubtreeIncarnation[]? LostWatches = null);
