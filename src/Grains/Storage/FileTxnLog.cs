using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Protocol.Jute;

namespace OrleansCoord.Grains.Storage;

/// <summary>
/// The standalone txn log: preallocated segment files <c>log.&lt;first zxid&gt;</c> in dataLogDir, each record
/// a length, a CRC-32C and a jute-encoded txn, one write and one fdatasync per group-committed batch.
/// </summary>
/// <remarks>
/// A segment ends at its first zero length (the preallocated zeros). A bad record at the end of the last
/// segment is a torn write from a crash: the segment is truncated there and appends go to a new segment, so
/// stale bytes never follow good ones. A bad record anywhere else is corruption and recovery refuses it.
/// </remarks>
public sealed partial class FileTxnLog(IOptions<FileStorageOptions> options, ILogger<FileTxnLog> logger) : ITxnLog, IDisposable
{
    private const uint Magic = 0x4F43544C; // "OCTL"
    private const int FormatVersion = 1;
    private const int HeaderLength = 8;
    private const int RecordHeaderLength = 8;
    private const string Prefix = "log.";

    private readonly FileStorageOptions _options = options.Value;
    private readonly ArrayBufferWriter<byte> _batch = new(64 * 1024);
    private SafeFileHandle? _segment;
    private SafeFileHandle? _lock;
    private long _position;
    private long _capacity;
    private long _lastZxid;
    private bool _open;

    private string Directory => Path.Combine(_options.LogDirectory, "txnlog");

    public ValueTask<long> OpenAsync(long afterZxid, Action<Txn> replay, CancellationToken cancellationToken)
    {
        CloseSegment();
        System.IO.Directory.CreateDirectory(Directory);
        _lock ??= LockDirectory();
        _lastZxid = Scan(afterZxid, replay, cutTornTail: true, cancellationToken);
        _open = true;
        return ValueTask.FromResult(_lastZxid);
    }

    public ValueTask<long> ReadAsync(long afterZxid, Action<Txn> replay, CancellationToken cancellationToken) =>
        ValueTask.FromResult(System.IO.Directory.Exists(Directory) ? Scan(afterZxid, replay, cutTornTail: false, cancellationToken) : afterZxid);

    /// <summary>Replays the segments after afterZxid; a bad record ends the scan (and is cut off when asked), or fails it when segments follow.</summary>
    private long Scan(long afterZxid, Action<Txn> replay, bool cutTornTail, CancellationToken cancellationToken)
    {
        var segments = ZxidFileNames.List(Directory, Prefix);
        var previous = 0L;
        for (var i = 0; i < segments.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var last = i == segments.Count - 1;
            if (!last && segments[i + 1].Zxid <= afterZxid + 1)
            {
                // Everything in this segment is already in the snapshot the caller started from.
                continue;
            }

            var (end, clean) = ReadSegment(segments[i].Path, ref previous, afterZxid, replay);
            if (!clean)
            {
                if (!last)
                {
                    throw new InvalidDataException($"txn log segment {segments[i].Path} is corrupt at offset {end} and later segments exist; refusing to serve past it");
                }

                if (cutTornTail)
                {
                    TruncateTornTail(segments[i].Path, end);
                }
            }
            else if (last && cutTornTail && end < new FileInfo(segments[i].Path).Length)
            {
                // Appends go to a new segment after a restart: give this one's unused preallocation back.
                using var file = File.OpenHandle(segments[i].Path, FileMode.Open, FileAccess.Write);
                RandomAccess.SetLength(file, end);
            }
        }

        return Math.Max(afterZxid, previous);
    }

    public ValueTask<long> AcquireEpochAsync(long atLeast, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Directory, "currentEpoch");
        var stored = File.Exists(path) ? long.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture) : 0;
        var epoch = Math.Max(Math.Max(stored, atLeast), _lastZxid >> 32) + 1;
        var temp = path + ".tmp";
        using (var file = File.OpenHandle(temp, FileMode.Create, FileAccess.Write))
        {
            RandomAccess.Write(file, System.Text.Encoding.ASCII.GetBytes(epoch.ToString(CultureInfo.InvariantCulture) + "\n"), 0);
            NativeFile.DataSync(file);
        }

        File.Move(temp, path, overwrite: true);
        NativeFile.SyncDirectory(Directory);
        return ValueTask.FromResult(epoch);
    }

    public ValueTask AppendAsync(IReadOnlyList<Txn> batch, CancellationToken cancellationToken)
    {
        if (!_open)
        {
            throw new InvalidOperationException("the txn log is not open: a previous append failed and recovery has not run");
        }

        if (batch.Count == 0)
        {
            return ValueTask.CompletedTask;
        }

        _batch.ResetWrittenCount();
        foreach (var txn in batch)
        {
            if (txn.Zxid <= _lastZxid)
            {
                throw new InvalidOperationException($"zxid 0x{txn.Zxid:x} does not follow 0x{_lastZxid:x}");
            }

            _ = _batch.GetSpan(RecordHeaderLength);
            _batch.Advance(RecordHeaderLength);
            var start = _batch.WrittenCount;
            TxnCodec.Write(new JuteWriter(_batch), txn);
            var length = _batch.WrittenCount - start;
            // The header goes in once the length is known; the buffer may have moved since it was reserved.
            var record = MemoryMarshal.AsMemory(_batch.WrittenMemory).Span[(start - RecordHeaderLength)..];
            BinaryPrimitives.WriteInt32BigEndian(record, length);
            BinaryPrimitives.WriteUInt32BigEndian(record[4..], Crc32C.Append(0, record.Slice(RecordHeaderLength, length)));
            _lastZxid = txn.Zxid;
        }

        try
        {
            if (_segment is null || _position + _batch.WrittenCount > _capacity)
            {
                StartSegment(batch[0].Zxid, _batch.WrittenCount);
            }

            RandomAccess.Write(_segment!, _batch.WrittenSpan, _position);
            _position += _batch.WrittenCount;
            if (_options.ForceSync)
            {
                NativeFile.DataSync(_segment!);
            }
        }
        catch
        {
            // The batch was not acknowledged, so it must not come back on recovery: cut it off if the disk lets
            // us. Either way only a fresh OpenAsync may say what the log holds now.
            _open = false;
            TryCutBack();
            CloseSegment();
            throw;
        }

        return ValueTask.CompletedTask;
    }

    public void Roll() => CloseSegment();

    public Task PurgeThroughAsync(long zxid, CancellationToken cancellationToken)
    {
        var segments = ZxidFileNames.List(Directory, Prefix);

        // A segment holds nothing after zxid when the next segment starts at or below zxid + 1.
        for (var i = 0; i + 1 < segments.Count && segments[i + 1].Zxid <= zxid + 1; i++)
        {
            File.Delete(segments[i].Path);
            LogPurged(logger, segments[i].Path);
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        CloseSegment();
        _lock?.Dispose();
    }

    /// <summary>
    /// Reads every segment in <paramref name="directory"/> without changing it, replaying each valid txn, and says
    /// what each holds and where its reading stopped; for the data-directory check.
    /// </summary>
    internal static List<TxnLogSegment> Inspect(string directory, Action<Txn> replay)
    {
        var segments = new List<TxnLogSegment>();
        var previous = 0L;
        foreach (var (zxid, path) in ZxidFileNames.List(Path.Combine(directory, "txnlog"), Prefix))
        {
            var txns = 0L;
            var (end, clean) = ReadSegment(path, ref previous, 0, txn =>
            {
                txns++;
                replay(txn);
            });
            segments.Add(new TxnLogSegment(path, zxid, txns, txns == 0 ? 0 : previous, end, new FileInfo(path).Length, clean));
        }

        return segments;
    }

    /// <summary>
    /// Epochs keep zxids apart but cannot stop two processes appending to one directory: an exclusive lock
    /// (flock) held for the log's lifetime does, and the kernel drops it when the process dies.
    /// </summary>
    private SafeFileHandle LockDirectory()
    {
        try
        {
            return File.OpenHandle(Path.Combine(Directory, "lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"txn log directory {Directory} is in use by another server; servers must not share a dataLogDir", ex);
        }
    }

    /// <summary>
    /// Replays a segment's records; returns where reading stopped and whether that is a clean end (the
    /// preallocated zeros or the end of the file) rather than a bad record.
    /// </summary>
    private static (long End, bool Clean) ReadSegment(string path, ref long previous, long afterZxid, Action<Txn> replay)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < HeaderLength
            || BinaryPrimitives.ReadUInt32BigEndian(bytes) != Magic
            || BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4)) != FormatVersion)
        {
            return (0, false);
        }

        var offset = (long)HeaderLength;
        while (offset + RecordHeaderLength <= bytes.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan((int)offset));
            if (length == 0)
            {
                return (offset, true);
            }

            if (length < 0 || offset + RecordHeaderLength + length > bytes.Length)
            {
                return (offset, false);
            }

            var payload = bytes.AsSpan((int)offset + RecordHeaderLength, length);
            if (BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan((int)offset + 4)) != Crc32C.Append(0, payload))
            {
                return (offset, false);
            }

            Txn txn;
            try
            {
                var reader = new JuteReader(payload);
                txn = TxnCodec.Read(ref reader);
            }
            catch (JuteException)
            {
                return (offset, false);
            }

            if (txn.Zxid <= previous)
            {
                return (offset, false);
            }

            previous = txn.Zxid;
            if (txn.Zxid > afterZxid)
            {
                replay(txn);
            }

            offset += RecordHeaderLength + length;
        }

        return (offset, offset == bytes.Length);
    }

    private void TruncateTornTail(string path, long offset)
    {
        LogTornTail(logger, path, offset);
        if (offset <= HeaderLength)
        {
            File.Delete(path);
        }
        else
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
            RandomAccess.SetLength(file, offset);
            NativeFile.DataSync(file);
        }

        NativeFile.SyncDirectory(Directory);
    }

    private void StartSegment(long firstZxid, int needed)
    {
        CloseSegment();
        var path = ZxidFileNames.Name(Directory, Prefix, firstZxid);
        var least = HeaderLength + needed;
        _capacity = Math.Max(_options.PreAllocSizeKb * 1024L, least);
        try
        {
            _segment = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, FileOptions.None, _capacity);
        }
        catch (IOException ex) when (_capacity > least)
        {
            // Less room than preAllocSize: a segment just large enough for this batch keeps writes going while
            // the disk has space for them. Only a disk that cannot take the batch itself refuses it.
            LogPreallocationShort(logger, path, _capacity, ex.Message);
            File.Delete(path);
            _capacity = least;
            _segment = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, FileOptions.None, _capacity);
        }
        Span<byte> header = stackalloc byte[HeaderLength];
        BinaryPrimitives.WriteUInt32BigEndian(header, Magic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], FormatVersion);
        RandomAccess.Write(_segment, header, 0);

        // Like ZooKeeper's padding: the file has its full size from the start, so a batch's fdatasync
        // does not also have to journal a new file length.
        RandomAccess.SetLength(_segment, _capacity);
        _position = HeaderLength;

        // The preallocated zeros end the segment for a reader; make the file itself durable before its records.
        NativeFile.DataSync(_segment);
        NativeFile.SyncDirectory(Directory);
    }

    private void TryCutBack()
    {
        if (_segment is null)
        {
            return;
        }

        try
        {
            RandomAccess.SetLength(_segment, _position);
            NativeFile.DataSync(_segment);
        }
        catch (IOException ex)
        {
            LogCutBackFailed(logger, ex, _position);
        }
    }

    private void CloseSegment()
    {
        if (_segment is null)
        {
            return;
        }

        try
        {
            // Nothing is appended to a closed segment again: give its unused preallocation back.
            RandomAccess.SetLength(_segment, _position);
        }
        catch (IOException)
        {
            // Only disk space is at stake; a reader stops at the zeros either way.
        }

        _segment.Dispose();
        _segment = null;
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Txn log segment {Path} has a torn tail at offset {Offset}; cut there")]
    private static partial void LogTornTail(ILogger logger, string path, long offset);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Purged txn log segment {Path}")]
    private static partial void LogPurged(ILogger logger, string path);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Could not preallocate {Bytes} bytes for txn log segment {Path} ({Reason}); it gets only what its first batch needs")]
    private static partial void LogPreallocationShort(ILogger logger, string path, long bytes, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "Could not cut a failed batch off the txn log at offset {Offset}")]
    private static partial void LogCutBackFailed(ILogger logger, Exception exception, long offset);
}
