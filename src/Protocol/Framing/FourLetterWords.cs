using System.Text;

namespace OrleansCoord.Protocol.Framing;

/// <summary>The four-letter words ZooKeeper 3.8 recognises in place of a first frame's length.</summary>
public static class FourLetterWords
{
    /// <summary>Every word ZooKeeper's FourLetterCommands knows, whitelisted or not.</summary>
    public static readonly IReadOnlyList<string> All =
    [
        "conf", "cons", "crst", "dump", "envi", "gtmk", "ruok", "stmk", "srst", "srvr", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "dirs", "hash",
    ];

    public static bool IsCommand(ReadOnlySpan<byte> prefix)
    {
        if (prefix.Length < 4)
        {
            return false;
        }

        foreach (var word in All)
        {
            if (prefix[0] == word[0] && prefix[1] == word[1] && prefix[2] == word[2] && prefix[3] == word[3])
            {
                return true;
            }
        }

        return false;
    }

    public static string Decode(ReadOnlySpan<byte> prefix) => Encoding.ASCII.GetString(prefix[..4]);
}
