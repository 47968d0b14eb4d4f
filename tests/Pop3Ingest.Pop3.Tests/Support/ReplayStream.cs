using System.Text;

namespace Pop3Ingest.Pop3.Tests.Support;

/// <summary>
/// Plays a recorded dialog to the client through a Stream: a response is released only after the client
/// wrote the command it answers (asserted byte for byte), and each read returns at most
/// <see cref="_maxRead"/> bytes, or is split at a chosen offset, so parsers meet every split.
/// </summary>
internal sealed class ReplayStream : Stream
{
    private readonly IReadOnlyList<Exchange> _exchanges;
    private readonly int _maxRead;
    private readonly int? _splitAt;
    private readonly List<byte> _written = [];
    private readonly List<byte> _released = [];
    private int _readPosition;
    private int _nextCommand;
    private long _totalRead;

    public ReplayStream(IReadOnlyList<Exchange> exchanges, int maxRead = int.MaxValue, int? splitAt = null)
    {
        _exchanges = exchanges;
        _maxRead = maxRead;
        _splitAt = splitAt;
        _nextCommand = 0;
        ReleaseUnprompted();
    }

    public List<string> Commands { get; } = [];

    public bool AllConsumed => _nextCommand == _exchanges.Count && _readPosition == _released.Count;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var available = _released.Count - _readPosition;
        if (available == 0)
        {
            if (_nextCommand >= _exchanges.Count)
            {
                return 0; // The server closed the connection.
            }

            throw new InvalidOperationException(
                $"The client read while the server waits for a command (next expected: '{_exchanges[_nextCommand].Command}').");
        }

        var n = Math.Min(Math.Min(available, buffer.Length), _maxRead);
        if (_splitAt is { } split && _totalRead < split && _totalRead + n > split)
        {
            n = (int)(split - _totalRead);
        }

        for (var i = 0; i < n; i++)
        {
            buffer[i] = _released[_readPosition + i];
        }

        _readPosition += n;
        _totalRead += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _written.AddRange(buffer.ToArray());
        while (true)
        {
            var text = Encoding.UTF8.GetString(_written.ToArray());
            var crlf = text.IndexOf("\r\n", StringComparison.Ordinal);
            if (crlf < 0)
            {
                return;
            }

            var command = text[..crlf];
            _written.RemoveRange(0, Encoding.UTF8.GetByteCount(text[..(crlf + 2)]));
            Commands.Add(command);
            if (_nextCommand >= _exchanges.Count)
            {
                throw new InvalidOperationException($"The client sent '{command}' after the end of the dialog.");
            }

            var expected = _exchanges[_nextCommand];
            if (expected.Command != command)
            {
                throw new InvalidOperationException($"Expected the client to send '{expected.Command}' but it sent '{command}'.");
            }

            _released.AddRange(expected.Response);
            _nextCommand++;
            ReleaseUnprompted();
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private void ReleaseUnprompted()
    {
        while (_nextCommand < _exchanges.Count && _exchanges[_nextCommand].Command is null)
        {
            _released.AddRange(_exchanges[_nextCommand].Response);
            _nextCommand++;
        }
    }
}

/// <summary>One step of a dialog: the command the client must send (null for the greeting) and the server's bytes.</summary>
internal sealed record Exchange(string? Command, byte[] Response);
