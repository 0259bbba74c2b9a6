using System.Buffers;
using System.Buffers.Binary;

namespace OrleansCoord.Bench;

/// <summary>A reusable buffer of length-prefixed request frames that go out in one socket write.</summary>
public sealed class OutgoingFrames : IBufferWriter<byte>
{
    private byte[] _buffer = new byte[16 * 1024];
    private int _written;

    public int Length => _written;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _written);

    public void Clear() => _written = 0;

    /// <summary>Reserves the length prefix of a frame; <see cref="EndFrame"/> fills it in.</summary>
    public int BeginFrame()
    {
        GetSpan(4);
        var start = _written;
        _written += 4;
        return start;
    }

    /// <summary>Drops a frame begun but not written.</summary>
    public void CancelFrame(int start) => _written = start;

    public void EndFrame(int start) => BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(start), _written - start - 4);

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        if (_buffer.Length - _written < Math.Max(sizeHint, 16))
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _written + sizeHint + 16));
        }
    }
}
