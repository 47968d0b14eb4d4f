namespace Pop3Ingest.Pop3;

/// <summary>
/// Sits under the TLS handshake and keeps the first bytes the server sends, so that a handshake that fails because
/// the server spoke POP3 in clear text (implicit TLS configured against a port that expects STLS, or none) can say
/// so instead of "cannot determine the frame size". It only observes; every byte still goes to TLS.
/// </summary>
internal sealed class ClearTextDetectingStream(Stream inner) : Stream
{
    private readonly byte[] _first = new byte[5];
    private int _firstCount;

    /// <summary>Whether the server's first bytes were a POP3 status line (<c>+OK</c> or <c>-ERR</c>), not a TLS record.</summary>
    public bool SawPop3StatusLine =>
        (_firstCount >= 3 && _first.AsSpan(0, 3).SequenceEqual("+OK"u8)) || (_firstCount >= 4 && _first.AsSpan(0, 4).SequenceEqual("-ERR"u8));

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Remember(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Remember(buffer.AsSpan(offset, read));
        return read;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void Remember(ReadOnlySpan<byte> data)
    {
        var take = Math.Min(_first.Length - _firstCount, data.Length);
        if (take > 0)
        {
            data[..take].CopyTo(_first.AsSpan(_firstCount));
            _firstCount += take;
        }
    }
}
