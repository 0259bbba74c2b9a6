using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OrleansCoord.Gateway.Admin;

namespace OrleansCoord.Gateway.Hosting;

/// <summary>
/// ZooKeeper's AdminServer: its commands as JSON over HTTP on admin.serverPort, under admin.commandURL; and the health
/// endpoints /health/live and /health/ready beside them.
/// </summary>
public static class AdminServerExtensions
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Listens for HTTP on the admin port; <paramref name="listening"/> gets the endpoint, whose port Kestrel fills in once bound.</summary>
    public static KestrelServerOptions ListenAdminServer(this KestrelServerOptions kestrel, GatewayOptions options, Action<ListenOptions> listening)
    {
        kestrel.Listen(options.AdminServerAddress, options.AdminServerPort, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listening(listen);
        });
        return kestrel;
    }

    /// <summary>GET {commandURL} lists the commands as links; GET {commandURL}/NAME runs one, by any of its names.</summary>
    public static IEndpointRouteBuilder MapAdminCommands(this IEndpointRouteBuilder routes, GatewayOptions options)
    {
        var root = options.AdminCommandUrl.TrimEnd('/');
        routes.MapGet(root, () =>
        {
            var links = new StringBuilder();
            foreach (var name in AdminCommands.Names)
            {
                links.Append("<a href=\"").Append(root).Append('/').Append(WebUtility.HtmlEncode(name)).Append("\">")
                     .Append(WebUtility.HtmlEncode(name)).Append("</a>\n<br/>\n");
            }

            return Results.Content(links.ToString(), "text/html");
        });
        routes.MapGet(root + "/{name}", async (string name, GatewayServer server) =>
            Results.Content((await AdminCommands.RunAsync(name, server)).ToJsonString(Indented), "application/json"));

        // For process supervisors and Kubernetes probes: live while the process serves HTTP at all; ready while this
        // gateway receives publications and either writes can be ordered or it knowingly serves read-only sessions.
        routes.MapGet("/health/live", () => Results.Text("live\n"));
        routes.MapGet("/health/ready", (GatewayServer server) =>
            server.Ready.IsCompletedSuccessfully && (!server.ReadOnly || server.Options.ReadOnlyModeEnabled)
                ? Results.Text(server.ReadOnly ? "ready, read-only\n" : "ready\n")
                : Results.Text("not ready: writes cannot be ordered\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        return routes;
    }
}
