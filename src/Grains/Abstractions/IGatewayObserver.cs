namespace OrleansCoord.Grains.Abstractions;

/// <summary>A gateway's subscription to the applied watermark and the watch events of its connections.</summary>
public interface IGatewayObserver : IGrainObserver
{
    Task OnPublished(Publication publication);
}
