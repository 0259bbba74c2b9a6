namespace OrleansCoord.Grains.Abstractions;

/// <summary>
/// Which gateway's batcher sent a batch, its place in that batcher's sequence, and the oldest of the batcher's
/// batches still unanswered. A batcher keeps more than one batch in flight and Orleans does not promise calls
/// arrive in the order they were made, so the quorum-log grain orders them by this.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct BatchOrigin(
    [property: Id(0)] Guid Batcher,
    [property: Id(1)] long Sequence,
    [property: Id(2)] long FirstUnanswered)
{
    /// <summary>
    /// How many batches a batcher keeps in flight. The quorum-log grain keeps each session's replies from as many
    /// of its batches, so any batch sent again is answered from them.
    /// </summary>
    public const int Window = 4;
}
