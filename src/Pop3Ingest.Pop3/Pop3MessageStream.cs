namespace Pop3Ingest.Pop3;

/// <summary>
/// A forward-only stream over one multi-line RETR or TOP response. It removes the byte-stuffing
/// (RFC 1939 §3: a line starting with "." has the dot removed) and ends at the terminating ".CRLF" line,
/// which it consumes but does not return. Bare LF line endings are accepted. Nothing is buffered beyond the
/// connection's receive buffer, whatever the message size.
/// </summary>
/// <remarks>
/// A connection that closes before the terminator raises <see cref="Pop3ConnectionException"/>: a message is
/// never silently short. Disposing the stream before its end leaves the session unusable, so the client
/// closes it; read to the end (or call <see cref="DrainAsync"/>) to keep the session.
/// </remarks>
public sealed class Pop3MessageStream : Stream
{
    private readonly Pop3Connection _connection;
    private readonly TimeSpan _timeout;
    private readonly Action<Pop3MessageStream> _onCompleted;
    private bool _atLineStart = true;
    private bool _completed;
    private bool _disposed;
    private long _bytesRead;
    private Pop3Connection.Operation? _operation;
    private CancellationToken _operationToken;

    internal Pop3MessageStream(Pop3Connection connection, int number, TimeSpan timeout, Action<Pop3MessageStream> onCompleted)
    {
        _connection = connection;
        Number = number;
        _timeout = timeout;
        _onCompleted = onCompleted;
    }

    /// <summary>The message number this stream belongs to.</summary>
    public int Number { get; }

    /// <summary>True once the terminating line was read.</summary>
    public bool IsCompleted => _completed;

    /// <summary>Message bytes returned so far (after unstuffing).</summary>
    public long BytesRead => _bytesRead;

    /// <inheritdoc/>
    public override bool CanRead => !_disposed;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException("The length of a POP3 message is known only at its end.");

    /// <inheritdoc/>
    public override long Position
    {
        get => _bytesRead;
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count), CancellationToken.None).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed || buffer.IsEmpty)
        {
            return 0;
        }

        var op = Operation(cancellationToken);
        var copied = 0;
        while (copied < buffer.Length)
        {
            if (_connection.BufferedCount == 0)
            {
                if (copied > 0)
                {
                    // Hand over what we have rather than wait for the network.
                    break;
                }

                op.Restart(_timeout);
                await FillOrFailAsync(1, op, cancellationToken).ConfigureAwait(false);
            }

            if (_atLineStart)
            {
                // A line start needs up to three bytes of look-ahead to tell ".CRLF" or ".LF" (the end) from
                // a stuffed dot; the look-ahead survives a terminator split across reads.
                if (_connection.Buffered[0] == (byte)'.')
                {
                    op.Restart(_timeout);
                    await FillOrFailAsync(2, op, cancellationToken).ConfigureAwait(false);
                    var next = _connection.Buffered[1];
                    if (next == (byte)'\n')
                    {
                        _connection.Consume(2);
                        Complete();
                        break;
                    }

                    if (next == (byte)'\r')
                    {
                        op.Restart(_timeout);
                        await FillOrFailAsync(3, op, cancellationToken).ConfigureAwait(false);
                        if (_connection.Buffered[2] == (byte)'\n')
                        {
                            _connection.Consume(3);
                            Complete();
                            break;
                        }
                    }

                    // RFC 1939 §3: a stuffed line; drop the first dot.
                    _connection.Consume(1);
                }

                _atLineStart = false;
                if (_connection.BufferedCount == 0)
                {
                    continue;
                }
            }

            var available = _connection.Buffered;
            var room = buffer.Length - copied;
            var span = available.Length > room ? available[..room] : available;

            // Only a line that starts with a dot needs attention, so look for LF followed by a dot.
            var take = span.Length;
            var lineDot = span.IndexOf("\n."u8);
            if (lineDot >= 0)
            {
                take = lineDot + 1;
            }

            span[..take].CopyTo(buffer.Span[copied..]);
            _connection.Consume(take);
            copied += take;
            _atLineStart = span[take - 1] == (byte)'\n';
        }

        _bytesRead += copied;
        return copied;
    }

    /// <summary>Reads and discards the rest of the message, so that the session can go on.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken = default)
    {
        var scratch = new byte[16 * 1024];
        while (await ReadAsync(scratch, cancellationToken).ConfigureAwait(false) > 0)
        {
        }
    }

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!_disposed)
        {
            _disposed = true;
            EndOperation();
            if (!_completed)
            {
                // The rest of this response is still on the wire; the session cannot be resynchronized cheaply.
                _connection.Break(new Pop3ProtocolException(
                    $"The message stream for message {Number} was closed before its end; the session was closed."));
                _onCompleted(this);
            }
        }

        base.Dispose(disposing);
    }

    private void Complete()
    {
        _completed = true;
        EndOperation();
        _onCompleted(this);
    }

    /// <summary>
    /// The timed operation of this message's reads. One serves every read (a message is read in thousands of pieces,
    /// and a linked token source with its timer per piece cost about 1% of a drain's CPU); each wait for the network
    /// restarts its clock, and so does each read. A clock that ran out while nobody was reading (the store took its
    /// time) is replaced, not taken for the server's silence.
    /// </summary>
    private Pop3Connection.Operation Operation(CancellationToken cancellationToken)
    {
        if (_operation is { } current && _operationToken == cancellationToken)
        {
            current.Restart(_timeout);
            if (!current.TimedOut)
            {
                return current;
            }
        }

        EndOperation();
        _operationToken = cancellationToken;
        return _operation = _connection.Begin(cancellationToken);
    }

    private void EndOperation()
    {
        _operation?.Dispose();
        _operation = null;
    }

    private async ValueTask FillOrFailAsync(int count, Pop3Connection.Operation op, CancellationToken cancellationToken)
    {
        if (!await _connection.EnsureAsync(count, op, $"receiving message {Number}", cancellationToken).ConfigureAwait(false))
        {
            throw _connection.Break(new Pop3ConnectionException(
                $"The server closed the connection after {_bytesRead} bytes of message {Number}, before the end of the message."));
        }
    }
}
