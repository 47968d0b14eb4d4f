namespace Pop3Ingest.Pop3;

/// <summary>
/// One message of a <see cref="Pop1Mailbox"/>: a forward-only, read-only stream that pulls from the connection.
/// It ends at the next separator or at the end of the mailbox's data; <see cref="Size"/> is final once a read
/// returned 0.
/// </summary>
public sealed class Pop1MessageStream : Stream
{
    private readonly Pop1Mailbox _mailbox;
    private bool _ended;

    internal Pop1MessageStream(Pop1Mailbox mailbox, int number)
    {
        _mailbox = mailbox;
        Number = number;
    }

    /// <summary>The message's position in the mailbox, from 1.</summary>
    public int Number { get; }

    /// <summary>Octets of this message read so far; its size once the stream has ended.</summary>
    public long Size { get; private set; }

    /// <summary>True once a read returned 0.</summary>
    public bool IsEnded => _ended;

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => Size;
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_ended || buffer.IsEmpty)
        {
            return 0;
        }

        var read = await _mailbox.ReadMessageAsync(buffer, cancellationToken).ConfigureAwait(false);
        Size += read;
        _ended = read == 0;
        return read;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Not supported: the message comes from the network; read it asynchronously.</summary>
    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("Read the message with ReadAsync; it streams from the network.");

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
