using System.Net;
using System.Net.Sockets;

namespace OrleansCoord.Tests.Infrastructure;

/// <summary>Loopback ports free at the moment of asking, for servers that must be told their port up front.</summary>
public static class FreePorts
{
    // Ports below the kernel's ephemeral range: binding port 0 and connecting out (Orleans, the clients, the JVM) only
    // ever take ports inside it, so a port picked here stays free until the server it is for binds it. Each is handed
    // out once per test run.
    private const int First = 20000;
    private static readonly int End = EphemeralLow();
    private static readonly Lock Gate = new();
    private static int _next = First;

    /// <summary>Distinct ports, each free when taken and never handed out before in this run.</summary>
    public static int[] Take(int count)
    {
        var ports = new int[count];
        lock (Gate)
        {
            for (var i = 0; i < count; i++)
            {
                ports[i] = NextFree();
            }
        }

        return ports;
    }

    public static int Take() => Take(1)[0];

    private static int NextFree()
    {
        while (_next < End)
        {
            var port = _next++;
            var listener = new TcpListener(IPAddress.Loopback, port);
            try
            {
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken by something outside this run; try the next one.
            }
            finally
            {
                listener.Stop();
            }
        }

        throw new InvalidOperationException($"no free loopback port left in {First}-{End - 1}");
    }

    private static int EphemeralLow()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        return File.Exists(range) && int.TryParse(File.ReadAllText(range).Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], out var low) && low > First + 1000
            ? low
            : 32768;
    }
}
