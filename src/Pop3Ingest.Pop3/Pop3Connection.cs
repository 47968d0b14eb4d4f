using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Pop3Ingest.Pop3;

/// <summary>
/// The transport: a socket, optionally wrapped in TLS, with one receive buffer. Every failure goes through
/// <see cref="Break"/>, which closes the connection so that nothing half-read is ever mistaken for a response.
/// </summary>
internal sealed class Pop3Connection : IAsyncDisposable
{
    private readonly Pop3ClientOptions _options;
    private readonly byte[] _buffer;
    private readonly CancellationTokenSource _sessionCts;
    private Socket? _socket;
    private Stream? _stream;
    private int _start;
    private int _end;
    private Exception? _breakReason;

    private readonly Stream? _injected;

    public Pop3Connection(Pop3ClientOptions options, Stream? injectedTransport = null)
    {
        _injected = injectedTransport;
        _options = options;
        _buffer = new byte[Math.Max(options.ReceiveBufferSize, options.MaxLineLength + 16)];
        _sessionCts = new CancellationTokenSource(options.SessionTimeout);
    }

    public bool IsEncrypted => _stream is SslStream { IsEncrypted: true };

    public bool IsBroken => _breakReason is not null;

    public X509Certificate? RemoteCertificate => (_stream as SslStream)?.RemoteCertificate;

    public SslProtocols? TlsProtocol => (_stream as SslStream)?.SslProtocol;

    /// <summary>Bytes received but not consumed yet.</summary>
    public ReadOnlySpan<byte> Buffered => _buffer.AsSpan(_start, _end - _start);

    public int BufferedCount => _end - _start;

    /// <summary>
    /// True when data is waiting that no command asked for yet. Under TLS the socket may hold protocol records
    /// (session tickets) that are not data, so only the plain socket is asked.
    /// </summary>
    public bool HasUnexpectedData => _end > _start || (!IsEncrypted && _socket is { } s && SafeAvailable(s) > 0);

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var host = _options.Host;
        var port = _options.EffectivePort;
        if (_injected is not null)
        {
            // Tests replay recorded dialogs through a stream that returns as few bytes per read as they choose.
            _stream = _injected;
            return;
        }

        using var op = Begin(cancellationToken);
        try
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            _socket = socket;
            if (IPAddress.TryParse(host, out var address))
            {
                await socket.ConnectAsync(address, port, op.Token).ConfigureAwait(false);
            }
            else
            {
                await socket.ConnectAsync(host, port, op.Token).ConfigureAwait(false);
            }

            _stream = new NetworkStream(socket, ownsSocket: true);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            throw Fail(e, op, $"connecting to {host}:{port}", cancellationToken);
        }

        if (_options.Security == Pop3Security.Tls)
        {
            await AuthenticateTlsAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Wraps the socket in TLS. RFC 2595 §4: anything received before the handshake is dropped.</summary>
    public async Task AuthenticateTlsAsync(CancellationToken cancellationToken)
    {
        ThrowIfBroken();
        _start = 0;
        _end = 0;
        var serverName = _options.TlsServerName ?? _options.Host;
        var validator = new Pop3CertificateValidator(_options.CertificateSha256, _options.CaFile);
        var observed = _options.Security == Pop3Security.Tls ? new ClearTextDetectingStream(_stream!) : null;
        var ssl = new SslStream(observed ?? _stream!, leaveInnerStreamOpen: false, validator.Validate);
        _stream = ssl;
        using var op = Begin(cancellationToken);
        try
        {
            await ssl.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = serverName,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                },
                op.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (observed is { SawPop3StatusLine: true } && e is AuthenticationException or IOException)
        {
            throw Break(new Pop3SecurityException(
                $"TLS with {_options.Host}:{_options.EffectivePort} failed: the server answered in clear text (a POP3 greeting, not a TLS " +
                "handshake). Is this a STARTTLS port? Use Security StartTls there, or the server's implicit-TLS port (usually 995).", e));
        }
        catch (AuthenticationException e)
        {
            throw Break(new Pop3SecurityException(
                $"TLS with {_options.Host}:{_options.EffectivePort} failed: {validator.Failure ?? e.Message}", e));
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            throw Fail(e, op, "the TLS handshake", cancellationToken);
        }
    }

    /// <summary>
    /// Reads the greeting, which must be +OK: a -ERR ends the session as a command error, anything else as a
    /// protocol error naming <paramref name="protocol"/>. Returns the greeting's text and its APOP timestamp, if any.
    /// </summary>
    public async Task<(string Text, string? ApopTimestamp)> ReadGreetingAsync(string protocol, Action<string> trace, CancellationToken cancellationToken)
    {
        using var op = Begin(cancellationToken);
        var line = await ReadLineAsync(op, "waiting for the greeting", cancellationToken).ConfigureAwait(false);
        var timestamp = Pop3ResponseParser.ExtractApopTimestamp(line.Span);
        var greeting = Pop3ResponseParser.ParseStatus(line.Span);
        trace(greeting.Kind == Pop3StatusKind.Garbage ? greeting.Text : Pop3ResponseParser.Sanitize(line.Span));
        return greeting.Kind switch
        {
            Pop3StatusKind.Ok => (greeting.Text, timestamp),
            Pop3StatusKind.Err => throw Break(new Pop3CommandException("the connection", greeting.Text, greeting.Code)),
            _ => throw Break(new Pop3ProtocolException(
                $"{_options.Host}:{_options.EffectivePort} did not greet like a {protocol} server: '{greeting.Text}'")),
        };
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ThrowIfBroken();
        using var op = Begin(cancellationToken);
        try
        {
            await _stream!.WriteAsync(data, op.Token).ConfigureAwait(false);
            await _stream.FlushAsync(op.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            throw Fail(e, op, "sending a command", cancellationToken);
        }
    }

    /// <summary>
    /// Reads one line ending in LF (CRLF or bare LF) and returns it without the line ending. The memory is valid
    /// until the next read. A line longer than <see cref="Pop3ClientOptions.MaxLineLength"/> breaks the session.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadLineAsync(Operation op, string what, CancellationToken cancellationToken)
    {
        var scanned = 0;
        while (true)
        {
            var span = _buffer.AsSpan(_start + scanned, _end - _start - scanned);
            var lf = span.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var length = scanned + lf;
                var lineStart = _start;
                _start += length + 1;
                if (length > 0 && _buffer[lineStart + length - 1] == (byte)'\r')
                {
                    length--;
                }

                return _buffer.AsMemory(lineStart, length);
            }

            scanned = _end - _start;
            if (scanned >= _options.MaxLineLength)
            {
                throw Break(new Pop3ProtocolException(
                    $"The server sent a line longer than {_options.MaxLineLength} bytes while {what}."));
            }

            if (!await FillAsync(op, what, cancellationToken).ConfigureAwait(false))
            {
                throw Break(new Pop3ConnectionException(
                    scanned == 0
                        ? $"The server closed the connection while {what}."
                        : $"The server closed the connection in the middle of a line while {what}."));
            }
        }
    }

    public void Consume(int count) => _start += count;

    /// <summary>Receives more bytes; false when the server closed the connection.</summary>
    public async ValueTask<bool> FillAsync(Operation op, string what, CancellationToken cancellationToken)
    {
        ThrowIfBroken();
        if (_start == _end)
        {
            _start = 0;
            _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        int read;
        try
        {
            read = await _stream!.ReadAsync(_buffer.AsMemory(_end), op.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            throw Fail(e, op, what, cancellationToken);
        }

        _end += read;
        return read > 0;
    }

    /// <summary>Ensures at least <paramref name="count"/> bytes are buffered; false on end of stream before that.</summary>
    public async ValueTask<bool> EnsureAsync(int count, Operation op, string what, CancellationToken cancellationToken)
    {
        while (_end - _start < count)
        {
            if (!await FillAsync(op, what, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Starts a timed operation: the timeout, the caller's token and the session deadline together.</summary>
    public Operation Begin(CancellationToken cancellationToken) => new(_options.Timeout, cancellationToken, _sessionCts.Token);

    /// <summary>Closes the connection for good and returns the exception to throw.</summary>
    public Exception Break(Exception reason)
    {
        _breakReason ??= reason;
        try
        {
            _stream?.Dispose();
            _socket?.Dispose();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // Closing a broken connection may fail again; the first cause is what matters.
        }

        return reason;
    }

    public void ThrowIfBroken()
    {
        if (_breakReason is not null)
        {
            throw new Pop3ConnectionException($"The session is closed: {_breakReason.Message}", _breakReason);
        }
    }

    public ValueTask DisposeAsync()
    {
        Break(new ObjectDisposedException(nameof(Pop3Client)));
        _sessionCts.Dispose();
        return ValueTask.CompletedTask;
    }

    private Exception Fail(Exception e, Operation op, string what, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            Break(new OperationCanceledException($"Cancelled while {what}.", e, cancellationToken));
            return new OperationCanceledException($"Cancelled while {what}.", e, cancellationToken);
        }

        if (_sessionCts.IsCancellationRequested)
        {
            return Break(new Pop3ConnectionException(
                $"The session ran past its deadline ({_options.SessionTimeout}) while {what}.", e, isTimeout: true));
        }

        if (op.TimedOut)
        {
            return Break(new Pop3ConnectionException(
                $"No answer from {_options.Host}:{_options.EffectivePort} within {_options.Timeout} while {what}.", e, isTimeout: true));
        }

        return Break(new Pop3ConnectionException(
            $"The connection to {_options.Host}:{_options.EffectivePort} failed while {what}: {e.Message}", e));
    }

    private static int SafeAvailable(Socket socket)
    {
        try
        {
            return socket.Available;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return 0;
        }
    }

    /// <summary>A timeout that covers one read, one write, or one whole non-message response.</summary>
    internal sealed class Operation : IDisposable
    {
        private readonly CancellationTokenSource _cts;

        public Operation(TimeSpan timeout, CancellationToken cancellationToken, CancellationToken session)
        {
            _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, session);
            _cts.CancelAfter(timeout);
        }

        public CancellationToken Token => _cts.Token;

        public bool TimedOut => _cts.IsCancellationRequested;

        /// <summary>Restarts the clock (each read of message data gets the full timeout).</summary>
        public void Restart(TimeSpan timeout) => _cts.CancelAfter(timeout);

        public void Dispose() => _cts.Dispose();
    }
}
