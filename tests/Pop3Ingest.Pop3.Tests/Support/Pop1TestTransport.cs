namespace Pop3Ingest.Pop3.Tests.Support;

/// <summary>
/// The server side of a POP1 dialog as a Stream: the greeting is available at once, and each later answer only
/// after the client wrote one more command line, so the client never sees an answer early. Reads are cut where
/// <see cref="NextRead"/> says (by the offset into everything the server sent), so a test can put a chunk boundary
/// anywhere. After the last answer, reads return 0: the server closed the connection.
/// </summary>
internal sealed class Pop1TestTransport(IReadOnlyList<byte[]> answers, Func<long, int, int> nextRead) : Stream
{
    private readonly List<byte> _written = [];
    private int _released = 1;
    private int _answer;
    private int _offsetInAnswer;
    private long _offset;

    /// <summary>Given the offset into the server's output and the caller's buffer size, how much one read returns.</summary>
    public Func<long, int, int> NextRead { get; } = nextRead;

    public List<string> Commands { get; } = [];

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
        while (_answer < _released && _offsetInAnswer == answers[_answer].Length)
        {
            _answer++;
            _offsetInAnswer = 0;
        }

        if (_answer >= _released)
        {
            if (_answer >= answers.Count)
            {
                return 0;
            }

            throw new InvalidOperationException("The client read before sending the command this answer is for.");
        }

        var source = answers[_answer].AsSpan(_offsetInAnswer);
        var count = Math.Min(Math.Min(source.Length, buffer.Length), Math.Max(1, NextRead(_offset, buffer.Length)));
        source[..count].CopyTo(buffer);
        _offsetInAnswer += count;
        _offset += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        foreach (var b in buffer)
        {
            _written.Add(b);
            if (b == (byte)'\n')
            {
                Commands.Add(System.Text.Encoding.UTF8.GetString([.. _written]).TrimEnd('\r', '\n'));
                _written.Clear();
                _released = Math.Min(_released + 1, answers.Count);
            }
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
}
