using System.Diagnostics;

namespace OrleansCoord.Tests.Infrastructure;

/// <summary>
/// A real client run in the background (stdout and stderr as one stream of lines), which a test may wait on line by
/// line while it acts on the servers, or run to completion (<see cref="ExternalCommand"/>).
/// </summary>
public sealed class LineProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly SemaphoreSlim _changed = new(0);

    public LineProcess(string file, IEnumerable<string> args, string? stdin = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = Repository.Root,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (stdin is not null)
        {
            _process.StandardInput.Write(stdin);
            _process.StandardInput.Close();
        }
    }

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>How many lines so far match.</summary>
    public int Count(Func<string, bool> match)
    {
        lock (_lines)
        {
            return _lines.Count(match);
        }
    }

    /// <summary>Waits (bounded) until more than <paramref name="skip"/> lines match; fails with the output if the process exits first.</summary>
    public async Task WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, int skip = 0)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (Count(match) <= skip)
        {
            Assert.False(_process.HasExited, "the client exited:\n" + Output);
            try
            {
                await _changed.WaitAsync(TimeSpan.FromMilliseconds(500), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"no such line within {timeout}:\n{Output}");
            }
        }
    }

    /// <summary>The exit code and output; a process still running after the timeout is killed and gets -1.</summary>
    public async Task<ExternalCommand.Result> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            return new ExternalCommand.Result(-1, $"timed out after {timeout}\n{Output}");
        }

        // The parameterless wait also drains the redirected output.
        _process.WaitForExit();
        return new ExternalCommand.Result(_process.ExitCode, Output);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
        _changed.Dispose();
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
        }

        _changed.Release();
    }
}
