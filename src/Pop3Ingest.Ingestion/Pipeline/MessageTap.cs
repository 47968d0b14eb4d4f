using System.Security.Cryptography;
using Pop3Ingest.Mime;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// A read-through stream between RETR and the store: every byte the store reads is hashed (SHA-256), counted
/// against the size limit, and shown to the header reader, in one pass and without holding the message.
/// </summary>
internal sealed class MessageTap : Stream
{
    private readonly Stream _source;
    private readonly long _maxBytes;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly MessageMetadataReader? _reader;
    private string? _readerError;
    private string? _sha256;
    private MessageMetadata? _metadata;
    private long _length;
    private bool _ended;

    public MessageTap(Stream source, long maxBytes, MessageMetadataReader? reader)
    {
        _source = source;
        _maxBytes = maxBytes <= 0 ? long.MaxValue : maxBytes;
        _reader = reader;
    }

    public long BytesRead => _length;

    public bool Ended => _ended;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            _ended = true;
            return 0;
        }

        _length += read;
        if (_length > _maxBytes)
        {
            throw new MessageTooLargeException(_maxBytes);
        }

        var span = buffer.Span[..read];
        _hash.AppendData(span);
        if (_reader is not null && _readerError is null)
        {
            try
            {
                _reader.Write(span);
            }
#pragma warning disable CA1031 // The reader must never fail an ingestion: its error goes into the metadata.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _readerError = e.Message;
            }
        }

        return read;
    }

    /// <summary>The SHA-256 of everything read, as lower-case hex; ask only at the end.</summary>
    public string Sha256 => _sha256 ??= Convert.ToHexStringLower(_hash.GetHashAndReset());

    /// <summary>The metadata the reader found, or an error note; never throws. Ask only at the end.</summary>
    public MessageMetadata? Metadata => _metadata ??= ReadMetadata();

    private MessageMetadata? ReadMetadata()
    {
        if (_reader is null)
        {
            return null;
        }

        if (_readerError is not null)
        {
            return new MessageMetadata { Problems = [$"header reader failed: {_readerError}"] };
        }

        try
        {
            return _reader.Complete();
        }
#pragma warning disable CA1031
        catch (Exception e)
#pragma warning restore CA1031
        {
            return new MessageMetadata { Problems = [$"header reader failed: {e.Message}"] };
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
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>A message grew past MaxMessageBytes while it was read (LIST sizes are hints).</summary>
internal sealed class MessageTooLargeException(long limit)
    : Exception($"The message is larger than MaxMessageBytes ({limit} bytes).")
{
    public long Limit { get; } = limit;
}
