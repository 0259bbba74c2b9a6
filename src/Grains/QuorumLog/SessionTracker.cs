using System.Security.Cryptography;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Storage;

namespace OrleansCoord.Grains.QuorumLog;

/// <summary>The session table: timeouts, passwords, expiry deadlines and each session's ephemeral nodes.</summary>
public sealed class SessionTracker
{
    private readonly Dictionary<long, Session> _sessions = [];
    private long _nextSessionId;

    public SessionTracker(long serverId, long nowMs)
    {
        // ZooKeeper's SessionTrackerImpl.initializeNextSessionId: time in the middle bits, server id on top.
        _nextSessionId = ((nowMs << 24) >>> 8) | (serverId << 56);
        if (_nextSessionId == long.MinValue)
        {
            _nextSessionId++;
        }
    }

    /// <summary>One live session.</summary>
    public sealed class Session(long id, int timeoutMs, byte[] password)
    {
        public long Id { get; } = id;

        public int TimeoutMs { get; } = timeoutMs;

        public byte[] Password { get; } = password;

        public long ExpiresAtMs { get; set; }

        public SortedSet<string> Ephemerals { get; } = new(StringComparer.Ordinal);

        /// <summary>The connection that holds the session; 0 after a restart until one of its connections writes.</summary>
        public long Owner { get; set; }

        /// <summary>
        /// Replies to the writes of the last <see cref="BatchOrigin.Window"/> batches that carried some (after
        /// recovery, also to all its writes in the log after the snapshot): a gateway sends a batch again only while
        /// fewer than that many of its batches are newer.
        /// </summary>
        public List<WriteOutcome> Outcomes { get; } = [];

        private long _outcomesBatch;

        // Where each kept batch's replies start in Outcomes, oldest first; the first _batches are in use.
        private readonly int[] _batchFrom = new int[BatchOrigin.Window];
        private int _batches;
        private int _unloggedFrom;

        /// <summary>The reply this connection's write already got, when it was processed before.</summary>
        public WriteResult? FindOutcome(long owner, int xid)
        {
            // The writes sent again are the newest ones.
            for (var i = Outcomes.Count - 1; i >= 0; i--)
            {
                if (Outcomes[i].Xid == xid && Outcomes[i].Owner == owner)
                {
                    return Outcomes[i].Result;
                }
            }

            return null;
        }

        public void Record(long batch, WriteOutcome outcome)
        {
            if (batch != _outcomesBatch)
            {
                if (_batches == _batchFrom.Length)
                {
                    // The oldest kept batch can no longer come again: the gateway sent one past its window.
                    var dropped = _batchFrom[1];
                    Outcomes.RemoveRange(0, dropped);
                    _unloggedFrom = Math.Max(0, _unloggedFrom - dropped);
                    for (var i = 1; i < _batches; i++)
                    {
                        _batchFrom[i - 1] = _batchFrom[i] - dropped;
                    }

                    _batches--;
                }

                _batchFrom[_batches++] = Outcomes.Count;
                _outcomesBatch = batch;
            }

            Outcomes.Add(outcome);
        }

        /// <summary>The replies not yet carried by a txn, which the session's txn now being made carries.</summary>
        public WriteOutcome[] TakeUnlogged()
        {
            var unlogged = new WriteOutcome[Outcomes.Count - _unloggedFrom];
            Outcomes.CopyTo(_unloggedFrom, unlogged, 0, unlogged.Length);
            _unloggedFrom = Outcomes.Count;
            return unlogged;
        }

        /// <summary>A new connection took the session: writes of the one before get SESSIONMOVED, and its replies go.</summary>
        public void MoveTo(long owner)
        {
            Owner = owner;
            Outcomes.Clear();
            _batches = 0;
            _unloggedFrom = 0;
        }
    }

    public int Count => _sessions.Count;

    public IEnumerable<Session> All => _sessions.Values;

    public int EphemeralCount { get; private set; }

    public Session Create(int timeoutMs, long nowMs)
    {
        var session = new Session(_nextSessionId++, timeoutMs, RandomNumberGenerator.GetBytes(16)) { ExpiresAtMs = nowMs + timeoutMs };
        _sessions[session.Id] = session;
        return session;
    }

    /// <summary>Brings back a session recovery found; like ZooKeeper, its timeout starts again from now.</summary>
    public void Restore(SnapshotSession session, long nowMs)
    {
        var restored = new Session(session.SessionId, session.TimeoutMs, session.Password) { ExpiresAtMs = nowMs + session.TimeoutMs };
        restored.Outcomes.AddRange(session.Outcomes);
        restored.TakeUnlogged();
        _sessions[session.SessionId] = restored;
    }

    public List<SnapshotSession> Snapshot() =>
        [.. _sessions.Values.Select(s => new SnapshotSession(s.Id, s.TimeoutMs, s.Password) { Outcomes = [.. s.Outcomes] })];

    public Session? Find(long sessionId) => _sessions.GetValueOrDefault(sessionId);

    public void Touch(long sessionId, long nowMs)
    {
        if (_sessions.TryGetValue(sessionId, out var session))
        {
            session.ExpiresAtMs = Math.Max(session.ExpiresAtMs, nowMs + session.TimeoutMs);
        }
    }

    public List<long> FindExpired(long nowMs)
    {
        var expired = new List<long>();
        foreach (var session in _sessions.Values)
        {
            if (session.ExpiresAtMs <= nowMs)
            {
                expired.Add(session.Id);
            }
        }

        return expired;
    }

    public void Remove(long sessionId)
    {
        if (_sessions.Remove(sessionId, out var session))
        {
            EphemeralCount -= session.Ephemerals.Count;
        }
    }

    public void AddEphemeral(long sessionId, string path)
    {
        if (_sessions.TryGetValue(sessionId, out var session) && session.Ephemerals.Add(path))
        {
            EphemeralCount++;
        }
    }

    public void RemoveEphemeral(long sessionId, string path)
    {
        if (_sessions.TryGetValue(sessionId, out var session) && session.Ephemerals.Remove(path))
        {
            EphemeralCount--;
        }
    }
}
