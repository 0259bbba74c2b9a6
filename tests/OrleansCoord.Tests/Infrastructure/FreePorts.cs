using System.Net;
using System.Net.Sockets;

namespace OrleansCoord.Tests.Infrastructure;

/// <summary>Loopback ports free at the moment of asking, for servers that must be told their port up front.</summary>
public static class FreePorts
{
    /// <summary>Distinct free ports: all are held until every one is found, so none comes back twice.</summary>
    public static int[] Take(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    public static int Take() => Take(1)[0];
}
