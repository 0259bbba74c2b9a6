namespace OrleansCoord.Gateway.Session;

/// <summary>
/// The applied watermark W as this gateway knows it: every change up to W is applied everywhere and this
/// gateway holds all watch events up to W. Waiters resume when W reaches their zxid.
/// </summary>
public sealed class Watermark
{
    private readonly Lock _lock = new();
    private readonly List<(long Zxid, TaskCompletionSource Waiter)> _waiters = [];
    private long _value;

    public long Value => Volatile.Read(ref _value);

    public Task WaitAsync(long zxid)
    {
        lock (_lock)
        {
            if (_value >= zxid)
            {
                return Task.CompletedTask;
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((zxid, waiter));
            return waiter.Task;
        }
    }

    public void Advance(long zxid)
    {
        List<TaskCompletionSource>? ready = null;
        lock (_lock)
        {
            if (zxid <= _value)
            {
                return;
            }

            Volatile.Write(ref _value, zxid);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Zxid <= zxid)
                {
                    (ready ??= []).Add(_waiters[i].Waiter);
                    _waiters.RemoveAt(i);
                }
            }
        }

        if (ready is not null)
        {
            foreach (var waiter in ready)
            {
                waiter.TrySetResult();
            }
        }
    }
}
