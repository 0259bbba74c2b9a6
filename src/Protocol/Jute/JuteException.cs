namespace OrleansCoord.Protocol.Jute;

/// <summary>Thrown when bytes on the wire do not form the jute record that was expected.</summary>
public sealed class JuteException : Exception
{
    public JuteException(string message) : base(message) { }
}
