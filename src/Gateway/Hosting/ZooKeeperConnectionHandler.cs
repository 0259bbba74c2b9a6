using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using OrleansCoord.Gateway.Session;

namespace OrleansCoord.Gateway.Hosting;

/// <summary>Kestrel's entry point for the client port: one <see cref="ClientConnection"/> per TCP connection.</summary>
public sealed partial class ZooKeeperConnectionHandler(GatewayServer server, ILogger<ZooKeeperConnectionHandler> logger) : ConnectionHandler
{
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var address = (connection.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
        var count = _perAddress.AddOrUpdate(address, 1, (_, n) => n + 1);
        try
        {
            var limit = server.Options.MaxClientCnxns;
            if (limit > 0 && count > limit)
            {
                LogTooManyConnections(logger, address, limit);
                return;
            }

            using var client = new ClientConnection(connection, server, logger);
            await client.RunAsync();
        }
        finally
        {
            _perAddress.AddOrUpdate(address, 0, (_, n) => n - 1);
        }
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Warning, Message = "Too many connections from {Address} - max is {Limit}")]
    private static partial void LogTooManyConnections(ILogger logger, IPAddress address, int limit);
}
