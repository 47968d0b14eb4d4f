using System.Buffers.Text;
using System.Text;

namespace Pop3Ingest.Pop3;

/// <summary>
/// A POP1 client (RFC 918): USER/PASS, then one transaction per mailbox: <c>RETR</c> (read, keep) or <c>RDEL</c>
/// (read, then delete) answered with the mailbox's size <c>#xxx</c>, <c>RCEV</c> for the data (exactly that many
/// octets), and <c>RCVD</c> to end the transaction, which after <c>RDEL</c> is the server's word that the mail is
/// deleted. There is no per-message anything: the mailbox is read and deleted whole. It shares the transport, TLS,
/// timeouts and trace of <see cref="Pop3Client"/>. One instance is one session; it is not thread-safe. Any I/O or
/// protocol error closes the session.
/// </summary>
/// <remarks>
/// Of <see cref="Pop3ClientOptions"/>, the POP3-only <see cref="Pop3ClientOptions.UsePipelining"/>,
/// <see cref="Pop3ClientOptions.PipelineDepth"/>, <see cref="Pop3ClientOptions.PipelineBytes"/> and
/// <see cref="Pop3ClientOptions.MaxListingBytes"/> are ignored; <see cref="Pop3Security.StartTls"/> and
/// <see cref="Pop3Security.StartTlsIfAvailable"/> are refused (RFC 918 has no STLS), and
/// <see cref="Pop3ClientOptions.Port"/> is required (RFC 918 assigns none).
/// </remarks>
public sealed class Pop1Client : IAsyncDisposable
{
    private readonly Pop3ClientOptions _options;
    private readonly Stream? _injectedTransport;
    private readonly Pop3SecretRedactor _redactor = new();
    private Pop3Connection? _connection;
    private Pop1Mailbox? _mailbox;
    private State _state = State.Disconnected;
    private string? _mailboxName;
    private long _size;

    /// <summary>Creates a client; nothing happens on the network until <see cref="ConnectAsync"/>.</summary>
    public Pop1Client(Pop3ClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Security is not (Pop3Security.None or Pop3Security.Tls))
        {
            throw new ArgumentException(
                $"POP1 (RFC 918) has no STLS: Security must be None or Tls (implicit TLS), not {options.Security}.", nameof(options));
        }

        if (options.Port == 0)
        {
            throw new ArgumentException("POP1 (RFC 918) assigns no port: Port is required.", nameof(options));
        }

        _options = options;
    }

    /// <summary>For tests: a client that talks over the given stream instead of a socket.</summary>
    internal Pop1Client(Pop3ClientOptions options, Stream transport)
        : this(options)
    {
        _injectedTransport = transport;
    }

    private enum State
    {
        Disconnected,
        Authorization,
        Ready,
        Opened,
        Receiving,
        Closed,
    }

    /// <summary>The greeting's text, sanitized.</summary>
    public string? Greeting { get; private set; }

    /// <summary>True when the connection is protected by TLS.</summary>
    public bool IsEncrypted => _connection?.IsEncrypted ?? false;

    /// <summary>The server's text in its answer to the latest <see cref="ConfirmAsync"/>, sanitized.</summary>
    public string? LastConfirmText { get; private set; }

    /// <summary>Opens the connection (with implicit TLS when Security is Tls) and reads the <c>+OK</c> greeting.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        if (_state != State.Disconnected)
        {
            throw new InvalidOperationException("The client is already connected; use a new client for a new session.");
        }

        _connection = new Pop3Connection(_options, _injectedTransport);
        _state = State.Closed;
        await _connection.ConnectAsync(cancellationToken).ConfigureAwait(false);
        (Greeting, _) = await _connection.ReadGreetingAsync("POP1", line => Trace(false, line), cancellationToken).ConfigureAwait(false);
        _state = State.Authorization;
    }

    /// <summary>
    /// USER then PASS (RFC 918). An encrypted connection is required unless
    /// <see cref="Pop3ClientOptions.AllowInsecureAuth"/> is set. A <c>-ERR</c> to either raises
    /// <see cref="Pop3AuthenticationException"/>. The password never reaches the trace or an exception.
    /// </summary>
    public async Task AuthenticateAsync(Pop3Credentials credentials, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        EnsureState(State.Authorization);
        if (credentials.Password is null)
        {
            throw new ArgumentException("POP1 authenticates with USER/PASS and needs a password.", nameof(credentials));
        }

        EnsureNoLineBreaks(credentials.UserName, "user name");
        EnsureNoLineBreaks(credentials.Password, "password");
        if (!IsEncrypted && !_options.AllowInsecureAuth)
        {
            throw Connection.Break(new Pop3SecurityException(
                $"Refusing to send credentials to {_options.Host}:{_options.Port} over an unencrypted connection; " +
                "use TLS, or allow it explicitly with AllowInsecureAuth."));
        }

        _redactor.Add(credentials.Password);
        var status = await CommandAsync("USER " + credentials.UserName, null, cancellationToken).ConfigureAwait(false);
        if (status.Kind == Pop3StatusKind.Ok)
        {
            status = await CommandAsync("PASS " + credentials.Password, "PASS " + Pop3SecretRedactor.Redacted, cancellationToken).ConfigureAwait(false);
        }

        if (status.Kind != Pop3StatusKind.Ok)
        {
            throw new Pop3AuthenticationException("USER/PASS", status.Text, status.Code);
        }

        _state = State.Ready;
    }

    /// <summary>
    /// Begins a transaction on <paramref name="mailbox"/>: <c>RDEL</c> when <paramref name="delete"/> (the mail is
    /// deleted once <see cref="ConfirmAsync"/> gets +OK), <c>RETR</c> otherwise. Returns the size the server announced,
    /// in octets. A <c>-ERR</c> (no such mailbox, locked) raises <see cref="Pop3CommandException"/> naming the command
    /// and mailbox; the session stays usable.
    /// </summary>
    public async Task<long> OpenAsync(string mailbox, bool delete, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(mailbox);
        EnsureNoLineBreaks(mailbox, "mailbox name");
        EnsureState(State.Ready);
        var command = (delete ? "RDEL " : "RETR ") + mailbox;
        using var op = Connection.Begin(cancellationToken);
        await SendAsync(command, null, cancellationToken).ConfigureAwait(false);
        var line = await Connection.ReadLineAsync(op, $"waiting for the answer to {command}", cancellationToken).ConfigureAwait(false);
        var text = Redact(Pop3ResponseParser.Sanitize(line.Span));
        Trace(false, text);
        if (line.Length > 0 && line.Span[0] == (byte)'#')
        {
            _size = ParseSize(line.Span[1..], command, text);
            _mailboxName = mailbox;
            _state = State.Opened;
            return _size;
        }

        var status = Pop3ResponseParser.ParseStatus(line.Span);
        if (status.Kind == Pop3StatusKind.Err)
        {
            throw new Pop3CommandException(command, Redact(status.Text), status.Code);
        }

        throw Connection.Break(new Pop3ProtocolException(
            $"The server answered {command} with '{text}' instead of the mailbox size '#octets' (RFC 918)."));
    }

    /// <summary>
    /// <c>RCEV</c>: asks for the mailbox's data and returns it as a <see cref="Pop1Mailbox"/> that reads exactly the
    /// announced number of octets from the connection and hands out its messages one at a time. A <c>+OK</c> line
    /// some servers send before the data is accepted and skipped. For an empty mailbox (size 0) nothing is sent: there
    /// is nothing to receive, and a server answering RCEV with +OK could not be told from one that sends nothing.
    /// </summary>
    public async Task<Pop1Mailbox> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        EnsureState(State.Opened);
        _state = State.Receiving;
        if (_size > 0)
        {
            using var op = Connection.Begin(cancellationToken);
            await SendAsync("RCEV", null, cancellationToken).ConfigureAwait(false);
            if (!await Connection.EnsureAsync(1, op, "waiting for the mailbox data after RCEV", cancellationToken).ConfigureAwait(false))
            {
                throw Connection.Break(new Pop3ConnectionException(
                    $"The server closed the connection after RCEV: received 0 of {_size} octets of mailbox {_mailboxName}."));
            }

            // Mailbox data starts with "From " or a header, never with "+": a leading "+" is the optional status line.
            if (Connection.Buffered[0] == (byte)'+')
            {
                var line = await Connection.ReadLineAsync(op, "waiting for the answer to RCEV", cancellationToken).ConfigureAwait(false);
                var status = Pop3ResponseParser.ParseStatus(line.Span);
                Trace(false, Redact(Pop3ResponseParser.Sanitize(line.Span)));
                if (status.Kind != Pop3StatusKind.Ok)
                {
                    throw Connection.Break(new Pop3ProtocolException(
                        $"The server answered RCEV with '{Redact(status.Text)}' instead of the mailbox data."));
                }
            }
        }

        _mailbox = new Pop1Mailbox(Connection, _size, _mailboxName!, _options.Timeout);
        return _mailbox;
    }

    /// <summary>
    /// <c>RCVD</c>: ends the transaction once the whole mailbox was read. True on +OK: after <c>RDEL</c>, the server
    /// deleted the mail. False on -ERR (its text is in <see cref="LastConfirmText"/>): after <c>RDEL</c>, the mail was
    /// not deleted. A lost connection raises <see cref="Pop3ConnectionException"/>: whether it was deleted is unknown.
    /// For an empty mailbox the transaction ends with <c>RSET</c> (no RCEV was sent; nothing to delete).
    /// </summary>
    public async Task<bool> ConfirmAsync(CancellationToken cancellationToken = default)
    {
        EnsureState(State.Receiving);
        if (_mailbox is { IsComplete: false })
        {
            throw new InvalidOperationException($"Mailbox {_mailboxName} must be read to its end before RCVD.");
        }

        var command = _size == 0 ? "RSET" : "RCVD";
        var status = await CommandAsync(command, null, cancellationToken).ConfigureAwait(false);
        LastConfirmText = status.Text;
        _state = State.Ready;
        _mailbox = null;
        return status.Kind == Pop3StatusKind.Ok;
    }

    /// <summary>
    /// <c>RSET</c>: aborts the transaction (RFC 918: nothing is deleted, the mailbox is unlocked), before its data was
    /// asked for or once all of it was read. In the middle of the data no command can be sent: close the session
    /// (<see cref="DisposeAsync"/>) instead, which aborts it as well.
    /// </summary>
    public async Task ResetAsync(CancellationToken cancellationToken = default)
    {
        EnsureState(State.Ready, State.Opened, State.Receiving);
        if (_mailbox is { IsComplete: false })
        {
            throw new InvalidOperationException($"Mailbox {_mailboxName} is being received: close the session to abort the transaction.");
        }

        ThrowIfErr("RSET", await CommandAsync("RSET", null, cancellationToken).ConfigureAwait(false));
        _state = State.Ready;
        _mailbox = null;
    }

    /// <summary><c>NOOP</c>.</summary>
    public async Task NoopAsync(CancellationToken cancellationToken = default)
    {
        EnsureState(State.Authorization, State.Ready, State.Opened);
        ThrowIfErr("NOOP", await CommandAsync("NOOP", null, cancellationToken).ConfigureAwait(false));
    }

    /// <summary><c>QUIT</c>, then closes the connection. True when the server answered +OK.</summary>
    public async Task<bool> QuitAsync(CancellationToken cancellationToken = default)
    {
        EnsureState(State.Authorization, State.Ready, State.Opened);
        var status = await CommandAsync("QUIT", null, cancellationToken).ConfigureAwait(false);
        _state = State.Closed;
        await Connection.DisposeAsync().ConfigureAwait(false);
        return status.Kind == Pop3StatusKind.Ok;
    }

    /// <summary>Closes the connection without QUIT or RCVD: nothing is deleted.</summary>
    public async ValueTask DisposeAsync()
    {
        _state = State.Closed;
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private Pop3Connection Connection => _connection ?? throw new InvalidOperationException("The client is not connected.");

    private long ParseSize(ReadOnlySpan<byte> rest, string command, string text)
    {
        // RFC 918: "#xxx"; tolerate text after a space.
        var space = rest.IndexOf((byte)' ');
        var digits = space >= 0 ? rest[..space] : rest;
        if (digits.Length == 0 || digits[0] is < (byte)'0' or > (byte)'9' ||
            !Utf8Parser.TryParse(digits, out long size, out var consumed) || consumed != digits.Length)
        {
            throw Connection.Break(new Pop3ProtocolException(
                $"The server answered {command} with '{text}': not a mailbox size (RFC 918 '#octets')."));
        }

        return size;
    }

    private async Task<Pop3Status> CommandAsync(string command, string? traceText, CancellationToken cancellationToken)
    {
        using var op = Connection.Begin(cancellationToken);
        await SendAsync(command, traceText, cancellationToken).ConfigureAwait(false);
        var verb = command.Split(' ')[0];
        var line = await Connection.ReadLineAsync(op, $"waiting for the answer to {verb}", cancellationToken).ConfigureAwait(false);
        var status = Pop3ResponseParser.ParseStatus(line.Span);
        status = status with { Text = Redact(status.Text) };
        Trace(false, Redact(Pop3ResponseParser.Sanitize(line.Span)));
        if (status.Kind is not (Pop3StatusKind.Ok or Pop3StatusKind.Err))
        {
            throw Connection.Break(new Pop3ProtocolException(
                $"The server answered {verb} with something that is not a status line: '{status.Text}'"));
        }

        return status;
    }

    private async Task SendAsync(string command, string? traceText, CancellationToken cancellationToken)
    {
        var connection = Connection;
        connection.ThrowIfBroken();
        if (connection.HasUnexpectedData)
        {
            throw connection.Break(new Pop3ProtocolException(
                $"The server sent data before the command {(traceText ?? command).Split(' ')[0]} was sent: '{Redact(Pop3ResponseParser.Sanitize(connection.Buffered))}'"));
        }

        Trace(true, traceText ?? command);
        var bytes = Encoding.UTF8.GetBytes(command + "\r\n");
        await connection.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }

    private void EnsureState(params ReadOnlySpan<State> states)
    {
        if (_connection is null)
        {
            throw new InvalidOperationException("The client is not connected.");
        }

        _connection.ThrowIfBroken();
        if (!states.Contains(_state))
        {
            throw new InvalidOperationException($"That command is not allowed in the {_state} state.");
        }
    }

    private static void ThrowIfErr(string command, Pop3Status status)
    {
        if (status.Kind == Pop3StatusKind.Err)
        {
            throw new Pop3CommandException(command, status.Text, status.Code);
        }
    }

    private static void EnsureNoLineBreaks(string value, string what)
    {
        if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException($"The {what} contains a line break, which would inject a POP1 command.");
        }
    }

    private string Redact(string text) => _redactor.Redact(text);

    private void Trace(bool sent, string line)
    {
        if (_options.Trace is { IsEnabled: true } trace)
        {
            if (sent)
            {
                trace.Sent(line);
            }
            else
            {
                trace.Received(line);
            }
        }
    }
}
