namespace Pop3Ingest.Pop3;

/// <summary>
/// The data of one RFC 918 transaction: exactly the announced number of octets, read from the connection as the
/// messages are read, and split into messages the way mbox readers split "mboxo" files. A separator is a line that
/// starts with <c>From </c> at the start of the data or right after a line feed; a message is what lies between
/// two separators, without the separator line and without the one empty line (LF or CRLF) just before the next
/// separator or at the very end of the data. <c>&gt;From </c> lines stay as they are, and line endings stay as received. Data before the first
/// separator (all of it, when there is none) is a message too. Memory is bounded: lines are never buffered whole,
/// and deciding whether an empty line precedes a separator looks at most 7 octets ahead.
/// </summary>
public sealed class Pop1Mailbox
{
    /// <summary>An empty line then a separator: "\r\nFrom " is the longest thing that must be seen at once.</summary>
    internal const int Lookahead = 7;

    private static ReadOnlySpan<byte> Separator => "From "u8;

    private readonly Pop3Connection _connection;
    private readonly TimeSpan _timeout;
    private long _remaining;
    private bool _started;
    private bool _atLineStart = true;
    private Pop1MessageStream? _current;

    internal Pop1Mailbox(Pop3Connection connection, long size, string name, TimeSpan timeout)
    {
        _connection = connection;
        _timeout = timeout;
        Size = size;
        _remaining = size;
        Name = name;
    }

    /// <summary>The size the server announced (<c>#xxx</c>), in octets.</summary>
    public long Size { get; }

    /// <summary>The mailbox's name as given to <see cref="Pop1Client.OpenAsync"/>.</summary>
    public string Name { get; }

    /// <summary>Octets received so far.</summary>
    public long Received => Size - _remaining;

    /// <summary>How many messages were handed out so far.</summary>
    public int MessageCount { get; private set; }

    /// <summary>True once every announced octet was read.</summary>
    public bool IsComplete => _remaining == 0;

    /// <summary>
    /// The next message as a forward-only stream that reads from the connection, or null when the data is exhausted.
    /// A message not read to its end is skipped first. Fewer octets than announced before the connection closes
    /// raises <see cref="Pop3ConnectionException"/>.
    /// </summary>
    public async Task<Pop1MessageStream?> NextMessageAsync(CancellationToken cancellationToken = default)
    {
        if (_current is { } previous)
        {
            await previous.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            _current = null;
        }

        if (_remaining == 0)
        {
            return null;
        }

        using (var op = _connection.Begin(cancellationToken))
        {
            if (!_started)
            {
                _started = true;
                await PeekAsync(Separator.Length, op, cancellationToken).ConfigureAwait(false);
                if (StartsWith(Separator))
                {
                    await SkipLineAsync(op, cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                // The previous message ended at a separator (or its empty line, already consumed): skip the separator.
                await SkipLineAsync(op, cancellationToken).ConfigureAwait(false);
            }
        }

        MessageCount++;
        _current = new Pop1MessageStream(this, MessageCount);
        return _current;
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with the current message's next octets; 0 at its end (a separator, or the
    /// end of the data).
    /// </summary>
    internal async ValueTask<int> ReadMessageAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        var written = 0;
        Pop3Connection.Operation? op = null;
        try
        {
            while (written < destination.Length && _remaining > 0)
            {
                var available = Available();
                if (_atLineStart)
                {
                    if (available.Length < Math.Min(Lookahead, _remaining))
                    {
                        if (written > 0)
                        {
                            break; // hand out what is there rather than wait for the network
                        }

                        op ??= _connection.Begin(cancellationToken);
                        await PeekAsync(Lookahead, op, cancellationToken).ConfigureAwait(false);
                        available = Available();
                    }

                    if (available.StartsWith(Separator))
                    {
                        break;
                    }

                    if (available.StartsWith("\nFrom "u8) || available.StartsWith("\r\nFrom "u8))
                    {
                        // The empty line before a separator belongs to neither message.
                        Consume(available[0] == (byte)'\r' ? 2 : 1);
                        break;
                    }

                    if (available.Length == _remaining && (available.SequenceEqual("\n"u8) || available.SequenceEqual("\r\n"u8)))
                    {
                        // So does the empty line that ends the data (as Python's mailbox reads it): a message is then the
                        // same octets, and has the same SHA-256, whether it was the last one or mail was appended after it.
                        Consume(available.Length);
                        break;
                    }
                }

                if (available.IsEmpty)
                {
                    if (written > 0)
                    {
                        break;
                    }

                    op ??= _connection.Begin(cancellationToken);
                    await FillAsync(op, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                // Copy at most one line at a time, so that each line's start is checked for a separator.
                var room = destination.Length - written;
                var lf = available.IndexOf((byte)'\n');
                var count = Math.Min(room, lf >= 0 ? lf + 1 : available.Length);
                available[..count].CopyTo(destination.Span[written..]);
                _atLineStart = available[count - 1] == (byte)'\n';
                Consume(count);
                written += count;
            }

            return written;
        }
        finally
        {
            op?.Dispose();
        }
    }

    private ReadOnlySpan<byte> Available()
    {
        var buffered = _connection.Buffered;
        return buffered.Length > _remaining ? buffered[..(int)_remaining] : buffered;
    }

    private bool StartsWith(ReadOnlySpan<byte> prefix) => Available().StartsWith(prefix);

    private void Consume(int count)
    {
        _connection.Consume(count);
        _remaining -= count;
    }

    /// <summary>Buffers up to <paramref name="count"/> octets of the data (fewer only at its end).</summary>
    private async ValueTask PeekAsync(int count, Pop3Connection.Operation op, CancellationToken cancellationToken)
    {
        var wanted = (int)Math.Min(count, _remaining);
        while (_connection.BufferedCount < wanted)
        {
            await FillAsync(op, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask FillAsync(Pop3Connection.Operation op, CancellationToken cancellationToken)
    {
        if (!await _connection.FillAsync(op, $"receiving mailbox {Name}", cancellationToken).ConfigureAwait(false))
        {
            var received = Received + Math.Min(_connection.BufferedCount, _remaining);
            throw _connection.Break(new Pop3ConnectionException(
                $"The server closed the connection after {received} of the {Size} octets it announced for mailbox {Name}."));
        }

        op.Restart(_timeout);
    }

    /// <summary>Consumes through the next line feed (or the end of the data) without holding the line.</summary>
    private async ValueTask SkipLineAsync(Pop3Connection.Operation op, CancellationToken cancellationToken)
    {
        while (_remaining > 0)
        {
            var available = Available();
            if (available.IsEmpty)
            {
                await FillAsync(op, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var lf = available.IndexOf((byte)'\n');
            Consume(lf >= 0 ? lf + 1 : available.Length);
            if (lf >= 0)
            {
                break;
            }
        }

        _atLineStart = true;
    }
}
