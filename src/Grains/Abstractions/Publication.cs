namespace OrleansCoord.Grains.Abstractions;

/// <summary>
/// The applied watermark moving from <see cref="PreviousZxid"/> to <see cref="Zxid"/>, with the watch events
/// of that range for one gateway's connections, in zxid order, the sessions that range closed, and the
/// subtrees whose grains came back as new incarnations (connections with watches in an earlier one must
/// reconnect and SetWatches), and, for a gateway that asked for them, the data events of every change in the range.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Publication(
    [property: Id(0)] long PreviousZxid,
    [property: Id(1)] long Zxid,
    [property: Id(2)] WatchEvent[] Events,
    [property: Id(3)] long[] ClosedSessions,
    [property: Id(4)] SubtreeIncarnation[]? LostWatches = null,
    [property: Id(5)] NodeChange[]? Changes = null);

/// <summary>The data event one change of a published batch makes (NodeCreated, NodeDeleted or NodeDataChanged), in batch order.</summary>
[GenerateSerializer, Immutable]
public readonly record struct NodeChange(
    [property: Id(0)] long Zxid,
    [property: Id(1)] int Order,
    [property: Id(2)] Protocol.EventType Type,
    [property: Id(3)] string Path)
{
    /// <summary>The event a recursive watch sees for a kind of change, if any.</summary>
    public static Protocol.EventType? EventOf(TreeChangeKind kind) => kind switch
    {
        TreeChangeKind.Create => Protocol.EventType.NodeCreated,
        TreeChangeKind.Delete => Protocol.EventType.NodeDeleted,
        TreeChangeKind.SetData => Protocol.EventType.NodeDataChanged,
        _ => null,
    };
}
