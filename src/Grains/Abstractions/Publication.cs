namespace OrleansCoord.Grains.Abstractions;

/// <summary>
/// The applied watermark moving from <see cref="PreviousZxid"/> to <see cref="Zxid"/>, with the watch events
/// of that range for one gateway's connections, in zxid order, and the sessions that range closed.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Publication(
    [property: Id(0)] long PreviousZxid,
    [property: Id(1)] long Zxid,
    [property: Id(2)] WatchEvent[] Events,
    [property: Id(3)] long[] ClosedSessions);
