using Pop3Ingest.Pop3;

namespace Pop3Ingest.Ingestion.Mailbox.Pop3;

/// <summary>
/// A message stream of the POP3 or POP1 client whose errors (a drop in the middle of a message) reach the run as
/// <see cref="MailboxException"/>s. Draining it (a copy to <see cref="Stream.Null"/>) uses the client's own skip.
/// </summary>
internal sealed class TranslatingStream(Stream inner, Func<CancellationToken, Task> drain) : Stream
{
    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        try
        {
            return inner.Read(buffer, offset, count);
        }
        catch (Pop3Exception e)
        {
            throw Pop3MailboxSession.Translate(e);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Pop3Exception e)
        {
            throw Pop3MailboxSession.Translate(e);
        }
    }

    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        try
        {
            if (ReferenceEquals(destination, Null))
            {
                await drain(cancellationToken).ConfigureAwait(false);
                return;
            }

            await inner.CopyToAsync(destination, bufferSize, cancellationToken).ConfigureAwait(false);
        }
        catch (Pop3Exception e)
        {
            throw Pop3MailboxSession.Translate(e);
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}
