using System.Security.Cryptography;
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
    }

    public int Count => _sessions.Count;

    public int EphemeralCount { get; private set; }

    public Session Create(int timeoutMs, long nowMs)
    {
        var session = new Session(_nextSessionId++, timeoutMs, RandomNumberGenerator.GetBytes(16)) { ExpiresAtMs = nowMs + timeoutMs };
        _sessions[session.Id] = session;
        return session;
    }

    /// <summary>Brings back a session recovery found; like ZooKeeper, its timeout starts again from now.</summary>
    public void Restore(SnapshotSession session, long nowMs) =>
        _sessions[session.SessionId] = new Session(session.SessionId, session.TimeoutMs, session.Password) { ExpiresAtMs = nowMs + session.TimeoutMs };

    public List<SnapshotSession> Snapshot() => [.. _sessions.Values.Select(s => new SnapshotSession(s.Id, s.TimeoutMs, s.Password))];

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
