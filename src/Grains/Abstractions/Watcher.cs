namespace OrleansCoord.Grains.Abstractions;

/// <summary>Who holds a watch: one client connection of a session, on one gateway.</summary>
[GenerateSerializer, Immutable]
public readonly record struct Watcher([property: Id(0)] int GatewayId, [property: Id(1)] long ConnectionId, [property: Id(2)] long SessionId)
{
    /// <summary>The watch a gateway's read cache holds on a node, which no connection has: it drops the node's replies when it fires.</summary>
    public static Watcher ReadCacheOf(int gatewayId) => new(gatewayId, 0, 0);

    /// <summary>Whether this is a gateway's read-cache watch rather than a connection's.</summary>
    public bool IsReadCache => ConnectionId == 0;
}

/// <summary>A fired watch, on its way to the connection that holds it.</summary>
[GenerateSerializer, Immutable]
public readonly record struct WatchEvent(
    [property: Id(0)] Watcher Watcher,
    [property: Id(1)] long Zxid,
    [property: Id(2)] int Order,
    [property: Id(3)] Protocol.EventType Type,
    [property: Id(4)] string Path);
