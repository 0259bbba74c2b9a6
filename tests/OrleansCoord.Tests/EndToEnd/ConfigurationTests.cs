using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>zoo.cfg keys from a file and the command line; bad values stop the start naming the key.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("tickTime", "abc")]
    [InlineData("tickTime", "0")]
    [InlineData("clientPort", "70000")]
    [InlineData("clientPortAddress", "not-an-ip")]
    [InlineData("maxClientCnxns", "-1")]
    [InlineData("jute.maxbuffer", "x")]
    [InlineData("4lw.commands.whitelist", "ruok,nope")]
    [InlineData("skipACL", "maybe")]
    [InlineData("authProvider.1", "com.example.CustomAuthenticationProvider")]
    [InlineData("orleans.probeTimeoutMs", "50")]
    [InlineData("orleans.missedProbesLimit", "0")]
    [InlineData("readCache.nodes", "-1")]
    [InlineData("readCache.bytes", "lots")]
    public async Task A_bad_value_stops_the_start_with_a_message_naming_the_key(string key, string value)
    {
        var result = await ExternalCommand.RunAsync("dotnet", [Repository.SiloDll, "--dataDir", SiloProcess.NewDataDir(), "--" + key, value], TimeSpan.FromMinutes(1));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"Invalid configuration: {key}:", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Min_session_timeout_above_max_is_refused()
    {
        var result = await ExternalCommand.RunAsync("dotnet", [Repository.SiloDll, "--minSessionTimeout", "9000", "--maxSessionTimeout", "5000"], TimeSpan.FromMinutes(1));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("minSessionTimeout", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_zoo_cfg_file_is_read_and_the_command_line_overrides_it()
    {
        var dataDir = SiloProcess.NewDataDir();
        Directory.CreateDirectory(dataDir);
        var cfg = Path.Combine(dataDir, "zoo.cfg");
        await File.WriteAllTextAsync(cfg, $"# a comment\ntickTime=700\nclientPort=2181\ndataDir={dataDir}\n4lw.commands.whitelist=conf, ruok\ninitLimit=10\n");
        await using var silo = await SiloProcess.StartRawAsync(dataDir, ["--config", cfg, "--clientPort", "0", "--admin.serverPort", "0"]);
        var conf = await FourLetterWord.AskAsync(silo.Port, "conf");
        Assert.Contains("tickTime=700\n", conf, StringComparison.Ordinal);
        Assert.Contains("minSessionTimeout=1400\n", conf, StringComparison.Ordinal);
        Assert.Contains("maxSessionTimeout=14000\n", conf, StringComparison.Ordinal);
        Assert.Contains($"dataDir={dataDir}\n", conf, StringComparison.Ordinal);
        Assert.Equal("imok", await FourLetterWord.AskAsync(silo.Port, "ruok"));
        Assert.Equal("srvr is not executed because it is not in the whitelist.\n", await FourLetterWord.AskAsync(silo.Port, "srvr"));
    }
}
