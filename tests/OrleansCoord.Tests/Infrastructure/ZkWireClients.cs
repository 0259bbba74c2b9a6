namespace OrleansCoord.Tests.Infrastructure;

/// <summary>Several sessions opened together and closed together.</summary>
public sealed class ZkWireClients : IAsyncDisposable
{
    public ZkWireClients(ZkWireClient[] clients) => All = clients;

    public ZkWireClient[] All { get; }

    public static async Task<ZkWireClients> ConnectAsync(int port, int count) =>
        new(await Task.WhenAll(Enumerable.Range(0, count).Select(_ => ZkWireClient.ConnectAsync(port))));

    public async ValueTask DisposeAsync()
    {
        foreach (var client in All)
        {
            await client.DisposeAsync();
        }
    }
}
