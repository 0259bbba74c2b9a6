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
    [property: Id(2)] long FirstUnanswered);
