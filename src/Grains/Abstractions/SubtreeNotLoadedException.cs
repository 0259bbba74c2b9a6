namespace OrleansCoord.Grains.Abstractions;

/// <summary>
/// A subtree grain was activated afresh (its silo died, or its key was never loaded) and does not know its nodes
/// yet; the caller asks the quorum-log grain to load it (<see cref="IQuorumLogGrain.EnsureSubtree"/>) and retries.
/// </summary>
[GenerateSerializer]
public sealed class SubtreeNotLoadedException : Exception
{
    public SubtreeNotLoadedException()
    {
    }

    public SubtreeNotLoadedException(string key)
        : base($"subtree {key} is not loaded")
    {
        Key = key;
    }

    public SubtreeNotLoadedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    [Id(0)]
    public string Key { get; private set; } = "";
}
