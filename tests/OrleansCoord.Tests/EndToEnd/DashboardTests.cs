using System.Text.Json;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>
/// The Orleans Dashboard (orleans.dashboard) on the AdminServer's port, opened in headless Chromium from Debian's
/// package: its silo and grain views show this silo and the coordination grains. Screenshots of both views are
/// kept in TestResults/dashboard.
/// </summary>
public sealed class DashboardTests
{
    private static readonly string Artefacts = Path.Combine(Repository.Root, "TestResults", "dashboard");

    [Fact]
    public async Task Headless_Chromium_finds_the_silo_and_the_coordination_grains()
    {
        await using var silo = await SiloProcess.StartAsync("--orleans.dashboard", "true");
        var url = $"http://127.0.0.1:{silo.AdminPort}/dashboard/";
        Assert.Contains($"Orleans Dashboard on {url}", silo.Output, StringComparison.Ordinal);

        // A write activates the quorum-log grain and a subtree grain beside the root's.
        await using (var client = await ZkWireClient.ConnectAsync(silo.Port))
        {
            Assert.Equal(ErrorCode.Ok, (await client.CreateAsync("/dashboard-" + Guid.NewGuid().ToString("N")[..8], [1])).Header.Err);
        }

        var siloAddress = await SiloAddressAsync(url);

        Directory.CreateDirectory(Artefacts);
        var silos = await RenderAsync(url + "#/silos", "silos.png");
        Assert.Contains(siloAddress, silos, StringComparison.Ordinal);
        Assert.Contains("Active", silos, StringComparison.Ordinal);

        var grains = await RenderAsync(url + "#/grains", "grains.png");
        Assert.Contains("QuorumLogGrain", grains, StringComparison.Ordinal);
        Assert.Contains("SubtreeGrain", grains, StringComparison.Ordinal);
    }

    /// <summary>The silo's address once the dashboard's counters, gathered every second, list it.</summary>
    private static async Task<string> SiloAddressAsync(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var counters = JsonDocument.Parse(await http.GetStringAsync(url + "DashboardCounters"));
            if (counters.RootElement.GetProperty("hosts") is { ValueKind: JsonValueKind.Array } hosts && hosts.GetArrayLength() > 0)
            {
                return hosts[0].GetProperty("siloAddress").GetString()!;
            }

            Assert.True(DateTime.UtcNow < deadline, "the dashboard never listed a silo");
            await Task.Delay(200);
        }
    }

    /// <summary>The page's DOM once its scripts have fetched and rendered (a bounded virtual-time budget), and a screenshot.</summary>
    private static async Task<string> RenderAsync(string url, string screenshot)
    {
        string[] browser = ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000", "--virtual-time-budget=8000"];
        var shot = await ExternalCommand.RunAsync("chromium", [.. browser, $"--screenshot={Path.Combine(Artefacts, screenshot)}", url], TimeSpan.FromMinutes(1));
        Assert.True(shot.ExitCode == 0 && File.Exists(Path.Combine(Artefacts, screenshot)), shot.Output);
        var dom = await ExternalCommand.RunAsync("chromium", [.. browser, "--dump-dom", url], TimeSpan.FromMinutes(1));
        Assert.True(dom.ExitCode == 0, dom.Output);
        return dom.Output;
    }
}
