using System.Net.Sockets;
using System.Text;

namespace OrleansCoord.Tests.Infrastructure;

/// <summary>Sends a four-letter word on the client port and reads the whole answer.</summary>
public static class FourLetterWord
{
    public static async Task<string> AskAsync(int port, string word)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(word));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>One value of mntr's "key TAB value" lines.</summary>
    public static async Task<long> MntrAsync(int port, string key)
    {
        foreach (var line in (await AskAsync(port, "mntr")).Split('\n'))
        {
            var parts = line.Split('\t');
            if (parts.Length == 2 && parts[0] == key)
            {
                return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"mntr has no {key}");
    }
}
