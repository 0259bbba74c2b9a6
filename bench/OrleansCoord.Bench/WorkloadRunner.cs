using System.Diagnostics;
using System.Net;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Bench;

/// <summary>
/// Runs the workloads against one target. Throughput workloads keep Inflight requests in flight on each of
/// Sessions sessions (spread over the endpoints), warm up, then count replies in a timed window.
/// </summary>
public sealed class WorkloadRunner(BenchSettings settings, TextWriter progress)
{
    /// <summary>Every workload, in the order a full run takes them.</summary>
    public static readonly string[] All =
    [
        "create", "setData", "getData", "exists", "getChildren", "delete",
        "mixed-0", "mixed-10", "mixed-50", "mixed-90", "mixed-100",
        "watch-fanout", "ephemeral-churn", "write-latency", "read-latency",
    ];

    private readonly EndPoint[] _endpoints = [.. settings.Endpoints.Select(ParseEndpoint)];
    private readonly byte[] _payload = new byte[settings.PayloadBytes];
    private readonly string _base = $"/ocbench-{Environment.ProcessId}-{Random.Shared.Next(1 << 20):x}";
    private string[] _keys = [];

    private string ListPath => _base + "/list";

    private string FanPath => _base + "/fan";

    public static EndPoint ParseEndpoint(string text)
    {
        var colon = text.LastIndexOf(':');
        var port = colon < 0 ? 2181 : int.Parse(text[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var host = colon < 0 ? text : text[..colon];
        return IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
    }

    /// <summary>Creates the nodes the workloads share: parents, the keys read and written, a list of 100 children, the watched node.</summary>
    public async Task SetupAsync()
    {
        await using var session = await ConnectAsync(0);
        foreach (var path in new[] { _base, _base + "/data", _base + "/create", _base + "/del", _base + "/eph", _base + "/mem", ListPath, FanPath })
        {
            await CheckAsync(session.CallAsync(OpCode.Create, w => new CreateRequest(path, [], [.. Acl.OpenAclUnsafe], 0).Write(w)), "create " + path);
        }

        _keys = [.. Enumerable.Range(0, settings.Keys).Select(i => $"{_base}/data/k{i}")];
        await DrainAsync("setup", [(session, new NumberedSource(OpCode.Create, _base + "/data/k", _payload, budget: settings.Keys))], 64);
        await DrainAsync("setup", [(session, new NumberedSource(OpCode.Create, ListPath + "/c", [], budget: 100))], 64);
    }

    /// <summary>
    /// Half reads, half writes, unmeasured, so that both servers' JIT compilers have settled before the first
    /// figure is taken (a Java or .NET server starts on unoptimized code).
    /// </summary>
    public async Task WarmUpServerAsync()
    {
        if (settings.ServerWarmupSeconds > 0)
        {
            var payload = _payload;
            await TimedAsync("server warm-up", settings.Sessions, settings.Inflight, i => new KeyedSource(_keys, OpCode.GetData, 50, payload, i), settings.ServerWarmupSeconds, 0);
        }
    }

    public Task<WorkloadResult> RunAsync(string workload)
    {
        var payload = _payload;
        return workload switch
        {
            "create" => CreateAsync(),
            "setData" => TimedAsync(workload, settings.Sessions, settings.Inflight, i => new KeyedSource(_keys, OpCode.GetData, 100, payload, i)),
            "getData" => TimedAsync(workload, settings.Sessions, settings.Inflight, i => new KeyedSource(_keys, OpCode.GetData, 0, payload, i)),
            "exists" => TimedAsync(workload, settings.Sessions, settings.Inflight, i => new KeyedSource(_keys, OpCode.Exists, 0, payload, i)),
            "getChildren" => TimedAsync(workload, settings.Sessions, settings.Inflight, i => new KeyedSource([ListPath], OpCode.GetChildren, 0, payload, i)),
            "delete" => DeleteAsync(),
            "watch-fanout" => FanOutAsync(),
            "ephemeral-churn" => ChurnAsync(),
            "write-latency" => TimedAsync(workload, 1, 1, i => new KeyedSource(_keys, OpCode.GetData, 100, payload, i)),
            "read-latency" => TimedAsync(workload, 1, 1, i => new KeyedSource(_keys, OpCode.GetData, 0, payload, i)),
            _ when workload.StartsWith("mixed-", StringComparison.Ordinal) && int.TryParse(workload["mixed-".Length..], out var writes) && writes is >= 0 and <= 100 =>
                TimedAsync(workload, settings.Sessions, settings.Inflight, i => new KeyedSource(_keys, OpCode.GetData, writes, payload, i)),
            _ => throw new ArgumentException($"unknown workload '{workload}'; known: {string.Join(", ", All)}, mixed-<write %>"),
        };
    }

    /// <summary>Creates znodes of the payload size, spread over the sessions, for the memory measurement; returns how many.</summary>
    public async Task<long> FillAsync(long znodes)
    {
        var perSession = Math.Max(1, znodes / settings.Sessions);
        var sessions = await ConnectAllAsync(settings.Sessions);
        try
        {
            await DrainAsync("fill", [.. sessions.Select((s, i) => (s, (IRequestSource)new NumberedSource(OpCode.Create, $"{_base}/mem/s{i}-", _payload, budget: perSession)))], settings.Inflight);
        }
        finally
        {
            await DisposeAllAsync(sessions);
        }

        return perSession * settings.Sessions;
    }

    private Task<WorkloadResult> TimedAsync(string name, int sessionCount, int inflight, Func<int, IRequestSource> source) =>
        TimedAsync(name, sessionCount, inflight, source, settings.WarmupSeconds, settings.DurationSeconds);

    private async Task<WorkloadResult> TimedAsync(string name, int sessionCount, int inflight, Func<int, IRequestSource> source, double warmupSeconds, double durationSeconds)
    {
        var sessions = await ConnectAllAsync(sessionCount);
        var window = new MeasureWindow();
        var loops = sessions.Select((s, i) => new ClosedLoop(s, source(i), inflight, new SessionStats(window))).ToList();
        try
        {
            foreach (var loop in loops)
            {
                loop.Start();
            }

            long Completed() => loops.Sum(l => l.Stats.Completed);
            await ShowProgressAsync(name + " (warm-up)", TimeSpan.FromSeconds(warmupSeconds), Completed, sessions);
            window.Open();
            var clock = Stopwatch.StartNew();
            await ShowProgressAsync(name, TimeSpan.FromSeconds(durationSeconds), Completed, sessions);
            window.Close();
            var seconds = clock.Elapsed.TotalSeconds;
            foreach (var loop in loops)
            {
                loop.Stop();
            }

            await FinishAsync(loops.Select(l => l.Done), sessions);
            return Summarize(name, "ops/s", seconds, [.. loops.Select(l => l.Stats)]);
        }
        finally
        {
            await DisposeAllAsync(sessions);
        }
    }

    /// <summary>
    /// Creates for the timed window, then deletes what it created, unmeasured: the workloads after it then meet the
    /// same tree on every system, not one as large as that system was fast (each snapshot copies the whole tree).
    /// </summary>
    private async Task<WorkloadResult> CreateAsync()
    {
        var sources = new NumberedSource[settings.Sessions];
        var result = await TimedAsync("create", settings.Sessions, settings.Inflight, i => sources[i] = new NumberedSource(OpCode.Create, $"{_base}/create/s{i}-", _payload));
        var sessions = await ConnectAllAsync(settings.Sessions);
        try
        {
            await DrainAsync("create (removing)", [.. sessions.Select((s, i) => (s, (IRequestSource)new NumberedSource(OpCode.Delete, $"{_base}/create/s{i}-", [], budget: sources[i].Issued)))], settings.Inflight);
        }
        finally
        {
            await DisposeAllAsync(sessions);
        }

        return result;
    }

    /// <summary>Each session creates its share of nodes, then deletes them all; the deletes are timed.</summary>
    private async Task<WorkloadResult> DeleteAsync()
    {
        var sessions = await ConnectAllAsync(settings.Sessions);
        try
        {
            var perSession = settings.DeletesPerSession;
            await DrainAsync("delete (creating)", [.. sessions.Select((s, i) => (s, (IRequestSource)new NumberedSource(OpCode.Create, $"{_base}/del/s{i}-", [], budget: perSession)))], settings.Inflight);
            var window = new MeasureWindow();
            var loops = sessions.Select((s, i) => new ClosedLoop(s, new NumberedSource(OpCode.Delete, $"{_base}/del/s{i}-", [], budget: perSession), settings.Inflight, new SessionStats(window))).ToList();
            window.Open();
            var clock = Stopwatch.StartNew();
            foreach (var loop in loops)
            {
                loop.Start();
            }

            await FinishAsync(loops.Select(l => l.Done), sessions);
            window.Close();
            return Summarize("delete", "ops/s", clock.Elapsed.TotalSeconds, [.. loops.Select(l => l.Stats)]);
        }
        finally
        {
            await DisposeAllAsync(sessions);
        }
    }

    /// <summary>
    /// One change, many watchers: every session but one arms a data watch on the same node, the last one sets
    /// its data, and the time from that write until each watcher has its event is recorded; repeated.
    /// </summary>
    private async Task<WorkloadResult> FanOutAsync()
    {
        var watchers = await ConnectAllAsync(settings.Sessions);
        await using var writer = await ConnectAsync(settings.Sessions);
        var histogram = SessionStats.NewHistogram();
        var histogramLock = new Lock();
        var changedAt = 0L;
        var remaining = 0;
        TaskCompletionSource? round = null;
        foreach (var watcher in watchers)
        {
            watcher.OnNotification = _ =>
            {
                var micros = (Stopwatch.GetTimestamp() - Volatile.Read(ref changedAt)) * 1_000_000 / Stopwatch.Frequency;
                lock (histogramLock)
                {
                    histogram.RecordValue(Math.Clamp(micros, 1, 60_000_000));
                }

                if (Interlocked.Decrement(ref remaining) == 0)
                {
                    round?.TrySetResult();
                }
            };
        }

        try
        {
            var events = 0L;
            var errors = 0L;
            var warmup = Stopwatch.StartNew();
            var clock = new Stopwatch();
            var nextReport = 1.0;
            while (clock.Elapsed.TotalSeconds < settings.DurationSeconds)
            {
                if (!clock.IsRunning && warmup.Elapsed.TotalSeconds >= settings.WarmupSeconds)
                {
                    lock (histogramLock)
                    {
                        histogram.Reset();
                    }

                    events = 0;
                    clock.Start();
                }

                var armed = await Task.WhenAll(watchers.Select(w => w.CallAsync(OpCode.GetData, x => new PathWatchRequest(FanPath, true).Write(x))));
                errors += armed.Count(r => r.Err != ErrorCode.Ok);
                round = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref remaining, watchers.Count);
                Volatile.Write(ref changedAt, Stopwatch.GetTimestamp());
                var set = await writer.CallAsync(OpCode.SetData, x => new SetDataRequest(FanPath, _payload, -1).Write(x));
                errors += set.Err == ErrorCode.Ok ? 0 : 1;
                await round.Task.WaitAsync(TimeSpan.FromSeconds(30));
                events += watchers.Count;
                if (clock.IsRunning && clock.Elapsed.TotalSeconds >= nextReport)
                {
                    nextReport++;
                    progress.Write($"\rwatch-fanout: {clock.Elapsed.TotalSeconds,5:F1}/{settings.DurationSeconds:F0} s, {events,10} events   ");
                }
            }

            progress.WriteLine();

            var latency = LatencySummary.From(histogram);
            return new WorkloadResult("watch-fanout", "events/s", events, clock.Elapsed.TotalSeconds, Math.Round(events / clock.Elapsed.TotalSeconds), errors, null, latency, null, null);
        }
        finally
        {
            await DisposeAllAsync(watchers);
        }
    }

    /// <summary>Sessions that each open, create one ephemeral node and close, as short-lived workers do.</summary>
    private async Task<WorkloadResult> ChurnAsync()
    {
        var window = new MeasureWindow();
        var stats = Enumerable.Range(0, settings.Sessions).Select(_ => new SessionStats(window)).ToArray();
        using var stop = new CancellationTokenSource();
        async Task WorkAsync(int worker)
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var started = Stopwatch.GetTimestamp();
                await using var session = await ConnectAsync(worker);
                var path = $"{_base}/eph/w{worker}-{n}";
                var created = await session.CallAsync(OpCode.Create, w => new CreateRequest(path, [], [.. Acl.OpenAclUnsafe], (int)CreateMode.Ephemeral).Write(w));
                var closed = await session.CallAsync(OpCode.CloseSession, _ => { });
                stats[worker].Record(OpKind.Write, started, created.Err != ErrorCode.Ok ? created.Err : closed.Err);
            }
        }

        var workers = Enumerable.Range(0, settings.Sessions).Select(i => Task.Run(() => WorkAsync(i))).ToArray();
        long Completed() => stats.Sum(s => s.Completed);
        await ShowProgressAsync("ephemeral-churn (warm-up)", TimeSpan.FromSeconds(settings.WarmupSeconds), Completed, []);
        window.Open();
        var clock = Stopwatch.StartNew();
        await ShowProgressAsync("ephemeral-churn", TimeSpan.FromSeconds(settings.DurationSeconds), Completed, []);
        window.Close();
        var seconds = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
        return Summarize("ephemeral-churn", "sessions/s", seconds, stats);
    }

    private static WorkloadResult Summarize(string name, string unit, double seconds, IReadOnlyList<SessionStats> stats)
    {
        var reads = SessionStats.NewHistogram();
        var writes = SessionStats.NewHistogram();
        var all = SessionStats.NewHistogram();
        foreach (var s in stats)
        {
            reads.Add(s.Reads);
            writes.Add(s.Writes);
            all.Add(s.Reads);
            all.Add(s.Writes);
        }

        var ops = stats.Sum(s => s.Ops);
        var errors = stats.Sum(s => s.Errors);
        var first = stats.Select(s => s.FirstError).FirstOrDefault(e => e is not null);
        return new WorkloadResult(name, unit, ops, Math.Round(seconds, 3), Math.Round(ops / seconds), errors, first?.ToString(),
            LatencySummary.From(all), LatencySummary.From(reads), LatencySummary.From(writes));
    }

    /// <summary>Runs sources that end (a budget of creates or deletes) on the given sessions until all are answered.</summary>
    private static async Task DrainAsync(string name, IReadOnlyList<(BenchSession Session, IRequestSource Source)> work, int inflight)
    {
        var window = new MeasureWindow();
        var loops = work.Select(w => new ClosedLoop(w.Session, w.Source, inflight, new SessionStats(window))).ToList();
        foreach (var loop in loops)
        {
            loop.Start();
        }

        await FinishAsync(loops.Select(l => l.Done), [.. work.Select(w => w.Session)]);
        if (loops.Sum(l => l.Stats.Completed) is var done && done == 0 && work.Count > 0)
        {
            throw new InvalidOperationException($"{name}: no request was answered");
        }
    }

    /// <summary>Waits for the loops to finish; a session the server closed fails the run with its reason.</summary>
    private static async Task FinishAsync(IEnumerable<Task> done, IReadOnlyList<BenchSession> sessions)
    {
        var all = Task.WhenAll(done);
        var closed = Task.WhenAny(sessions.Select(s => s.Closed));
        if (await Task.WhenAny(all, closed).WaitAsync(TimeSpan.FromMinutes(5)) != all)
        {
            var failed = sessions.First(s => s.Closed.IsCompleted);
            throw new IOException($"session 0x{failed.SessionId:x} lost its connection: {failed.Failure ?? "closed by the server"}");
        }
    }

    private async Task ShowProgressAsync(string name, TimeSpan span, Func<long> completed, IReadOnlyList<BenchSession> sessions)
    {
        var clock = Stopwatch.StartNew();
        var last = completed();
        var lastAt = TimeSpan.Zero;
        while (clock.Elapsed < span)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, Math.Max(1, (span - clock.Elapsed).TotalMilliseconds))));
            if (sessions.FirstOrDefault(s => s.Closed.IsCompleted) is { } failed)
            {
                throw new IOException($"session 0x{failed.SessionId:x} lost its connection: {failed.Failure ?? "closed by the server"}");
            }

            var now = completed();
            var rate = (now - last) / Math.Max(0.001, (clock.Elapsed - lastAt).TotalSeconds);
            progress.Write($"\r{name}: {clock.Elapsed.TotalSeconds,5:F1}/{span.TotalSeconds:F0} s, {now,10} replies, {rate,10:F0}/s   ");
            (last, lastAt) = (now, clock.Elapsed);
        }

        progress.WriteLine();
    }

    private Task<BenchSession> ConnectAsync(int index) =>
        BenchSession.ConnectAsync(_endpoints[index % _endpoints.Length], settings.SessionTimeoutMs, CancellationToken.None);

    private async Task<List<BenchSession>> ConnectAllAsync(int count) =>
        [.. await Task.WhenAll(Enumerable.Range(0, count).Select(ConnectAsync))];

    private static async Task DisposeAllAsync(IEnumerable<BenchSession> sessions)
    {
        foreach (var session in sessions)
        {
            await session.DisposeAsync();
        }
    }

    private static async Task CheckAsync(Task<Reply> call, string what)
    {
        var reply = await call;
        if (reply.Err != ErrorCode.Ok)
        {
            throw new InvalidOperationException($"{what}: {reply.Err}");
        }
    }
}
