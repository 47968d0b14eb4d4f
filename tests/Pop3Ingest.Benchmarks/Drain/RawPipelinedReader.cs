using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pop3Ingest.Benchmarks.Drain;

/// <summary>
/// The ceiling: one connection, USER/PASS, every RETR written at once while a reader counts each answer's bytes up to
/// its terminating "." line and throws them away (RFC 1939 §3; RFC 2449 §6.6 allows the client to pipeline). Its own
/// socket code, not the product's client.
/// </summary>
internal static class RawPipelinedReader
{
    private const int BufferSize = 256 * 1024;

    /// <summary>Drains every message once; returns how many multi-line answers ended and how many bytes they held.</summary>
    public static async Task<(int Messages, long Bytes)> DrainAsync(DrainMailbox mailbox, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Parse(mailbox.Host), mailbox.Port, cancellationToken);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var reader = new LineReader(stream);

        await reader.ExpectOkAsync("greeting", cancellationToken);
        await SendAsync(stream, $"USER {mailbox.User}\r\n", cancellationToken);
        await reader.ExpectOkAsync("USER", cancellationToken);
        await SendAsync(stream, $"PASS {mailbox.Password}\r\n", cancellationToken);
        await reader.ExpectOkAsync("PASS", cancellationToken);
        await SendAsync(stream, "STAT\r\n", cancellationToken);
        var stat = await reader.ExpectOkAsync("STAT", cancellationToken);
        var count = int.Parse(stat.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

        // Written concurrently with the reads: the server answers while we still send, and both directions must flow.
        var commands = new StringBuilder(count * 12);
        for (var i = 1; i <= count; i++)
        {
            commands.Append("RETR ").Append(i).Append("\r\n");
        }

        var writer = SendAsync(stream, commands.ToString(), cancellationToken);
        long bytes = 0;
        for (var i = 1; i <= count; i++)
        {
            await reader.ExpectOkAsync("RETR", cancellationToken);
            bytes += await reader.SkipMultilineAsync(cancellationToken);
        }

        await writer;
        await SendAsync(stream, "QUIT\r\n", cancellationToken);
        await reader.ExpectOkAsync("QUIT", cancellationToken);
        return (count, bytes);
    }

    private static async Task SendAsync(NetworkStream stream, string text, CancellationToken cancellationToken) =>
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken);

    private sealed class LineReader(NetworkStream stream)
    {
        private readonly byte[] _buffer = new byte[BufferSize];
        private int _start;
        private int _end;

        public async Task<string> ExpectOkAsync(string what, CancellationToken cancellationToken)
        {
            var (offset, length) = await NextLineAsync(cancellationToken);
            var line = Encoding.ASCII.GetString(_buffer, offset, length).TrimEnd('\r', '\n');
            if (!line.StartsWith("+OK", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{what}: {line}");
            }

            return line;
        }

        /// <summary>Skips lines up to and including the lone "." line; returns the bytes before it (as sent, stuffed).</summary>
        public async Task<long> SkipMultilineAsync(CancellationToken cancellationToken)
        {
            long bytes = 0;
            while (true)
            {
                // Whole lines already buffered are scanned without awaiting.
                while (true)
                {
                    var index = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
                    if (index < 0)
                    {
                        break;
                    }

                    var length = index + 1;
                    if (length == 3 && _buffer[_start] == (byte)'.' && _buffer[_start + 1] == (byte)'\r')
                    {
                        _start += length;
                        return bytes;
                    }

                    bytes += length;
                    _start += length;
                }

                await FillAsync(cancellationToken);
            }
        }

        private async Task<(int Offset, int Length)> NextLineAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var index = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
                if (index >= 0)
                {
                    var offset = _start;
                    _start += index + 1;
                    return (offset, index + 1);
                }

                await FillAsync(cancellationToken);
            }
        }

        /// <summary>Moves the partial line to the front and reads more after it.</summary>
        private async Task FillAsync(CancellationToken cancellationToken)
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                throw new InvalidOperationException("A line longer than the buffer.");
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException("The server closed the connection.");
            }

            _end += read;
        }
    }
}
