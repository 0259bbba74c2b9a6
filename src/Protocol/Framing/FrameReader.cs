using System.Buffers;
using System.Buffers.Binary;

namespace OrleansCoord.Protocol.Framing;

/// <summary>The outcome of looking for one frame at the start of a buffer.</summary>
public enum FrameStatus
{
    /// <summary>Not enough bytes yet.</summary>
    Incomplete,

    /// <summary>A whole length-prefixed frame.</summary>
    Frame,

    /// <summary>A four-letter word where a first frame was expected.</summary>
    FourLetterWord,

    /// <summary>A length outside 0..jute.maxbuffer: the connection must be closed.</summary>
    BadLength,
}

/// <summary>Cuts ZooKeeper's int32-length-prefixed frames out of a byte stream.</summary>
public static class FrameReader
{
    /// <summary>jute.maxbuffer's default: 0xfffff bytes.</summary>
    public const int DefaultMaxBuffer = 0xfffff;

    /// <summary>
    /// Looks for a frame at the start of <paramref name="buffer"/>. On <see cref="FrameStatus.Frame"/> the
    /// payload (without the prefix) is returned and <paramref name="consumed"/> covers prefix and payload.
    /// </summary>
    public static FrameStatus TryRead(in ReadOnlySequence<byte> buffer, int maxBuffer, bool firstFrame, out ReadOnlySequence<byte> payload, out SequencePosition consumed, out int length)
    {
        payload = default;
        consumed = buffer.Start;
        length = 0;
        if (buffer.Length < 4)
        {
            return FrameStatus.Incomplete;
        }

        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        length = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (firstFrame && FourLetterWords.IsCommand(prefix))
        {
            consumed = buffer.GetPosition(4);
            return FrameStatus.FourLetterWord;
        }

        if (length < 0 || length > maxBuffer)
        {
            return FrameStatus.BadLength;
        }

        if (buffer.Length - 4 < length)
        {
            return FrameStatus.Incomplete;
        }

        payload = buffer.Slice(4, length);
        consumed = payload.End;
        return FrameStatus.Frame;
    }
}
