namespace OrleansCoord.Gateway.Dispatch;

/// <summary>A write whose batch was in flight when the silo ordering writes died: committed or not, nobody here knows.</summary>
public sealed class WriteOutcomeUnknownException(Exception innerException)
    : Exception("the silo ordering writes failed with the write in flight", innerException)
{
}
