using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace Pop3Ingest.Pop3;

/// <summary>
/// A POP3 client (RFC 1939, with CAPA, PIPELINING and response codes of RFC 2449, STLS of RFC 2595, SASL of
/// RFC 5034, the codes of RFC 3206 and implicit TLS of RFC 8314). One instance is one session; it is not
/// thread-safe. Any I/O or protocol error closes the session (<see cref="Pop3SessionState.Broken"/>), and
/// a session that ends without a +OK to QUIT commits no deletion (RFC 1939 §6).
/// </summary>
public sealed partial class Pop3Client : IAsyncDisposable
{
    private const string Redacted = Pop3SecretRedactor.Redacted;
    private static readonly byte[] s_crlf = "\r\n"u8.ToArray();

    private readonly Pop3ClientOptions _options;
    private readonly Stream? _injectedTransport;
    private Pop3Connection? _connection;
    private Pop3MessageStream? _openStream;
    private Pop3Capabilities _capabilities = Pop3Capabilities.Empty;
    private Pop3SessionState _state = Pop3SessionState.Disconnected;

    /// <summary>What this session sent that must never come back out of it.</summary>
    private readonly Pop3SecretRedactor _redactor = new();

    /// <summary>Creates a client; nothing happens on the network until <see cref="ConnectAsync"/>.</summary>
    public Pop3Client(Pop3ClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>For tests: a client that talks over the given stream instead of a socket.</summary>
    internal Pop3Client(Pop3ClientOptions options, Stream transport)
        : this(options)
    {
        _injectedTransport = transport;
    }

    /// <summary>The session state.</summary>
    public Pop3SessionState State => _connection is { IsBroken: true } && _state != Pop3SessionState.Closed ? Pop3SessionState.Broken : _state;

    /// <summary>What the server supports, from the latest CAPA (or the baseline when CAPA was refused).</summary>
    public Pop3Capabilities Capabilities => _capabilities;

    /// <summary>The greeting's text, sanitized.</summary>
    public string? Greeting { get; private set; }

    /// <summary>The APOP timestamp from the greeting, when there was one.</summary>
    public string? ApopTimestamp { get; private set; }

    /// <summary>True when the connection is protected by TLS.</summary>
    public bool IsEncrypted => _connection?.IsEncrypted ?? false;

    /// <summary>The SHA-256 fingerprint (lower-case hex) of the server's certificate, when TLS is on.</summary>
    public string? ServerCertificateSha256 =>
        _connection?.RemoteCertificate is { } certificate ? Pop3CertificateValidator.Fingerprint(certificate) : null;

    /// <summary>True when commands are pipelined in this session.</summary>
    public bool IsPipelining => _options.UsePipelining && _capabilities.Has(Pop3CapabilityFlags.Pipelining);

    /// <summary>
    /// Opens the connection, reads the greeting, asks CAPA, and upgrades with STLS as configured (asking CAPA
    /// again afterwards, RFC 2595 §4).
    /// </summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        if (_state != Pop3SessionState.Disconnected)
        {
            throw new InvalidOperationException("The client is already connected; use a new client for a new session.");
        }

        _connection = new Pop3Connection(_options, _injectedTransport);
        await _connection.ConnectAsync(cancellationToken).ConfigureAwait(false);

        (Greeting, ApopTimestamp) = await _connection.ReadGreetingAsync("POP3", TraceReceived, cancellationToken).ConfigureAwait(false);

        _state = Pop3SessionState.Authorization;
        await RefreshCapabilitiesAsync(cancellationToken).ConfigureAwait(false);

        if (_options.Security is Pop3Security.StartTls or Pop3Security.StartTlsIfAvailable)
        {
            await StartTlsAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StartTlsAsync(CancellationToken cancellationToken)
    {
        var required = _options.Security == Pop3Security.StartTls;
        if (!_capabilities.Has(Pop3CapabilityFlags.Stls) && _capabilities.Has(Pop3CapabilityFlags.Capa))
        {
            if (required)
            {
                throw Connection.Break(new Pop3SecurityException(
                    $"{_options.Host}:{_options.EffectivePort} does not offer STLS, and Security is StartTls."));
            }

            return;
        }

        var status = await CommandAsync("STLS", null, cancellationToken).ConfigureAwait(false);
        if (status.Kind != Pop3StatusKind.Ok)
        {
            if (required || _capabilities.Has(Pop3CapabilityFlags.Stls))
            {
                // RFC 2595 §8: a refused STLS after it was advertised may be an attack; never fall back to clear text
                // when TLS is required. With StartTlsIfAvailable the operator accepted clear text.
                if (required)
                {
                    throw Connection.Break(new Pop3SecurityException(
                        $"{_options.Host}:{_options.EffectivePort} refused STLS ({status.Text}), and Security is StartTls."));
                }
            }

            return;
        }

        await Connection.AuthenticateTlsAsync(cancellationToken).ConfigureAwait(false);

        // RFC 2595 §4: forget what CAPA said before STLS and ask again.
        _capabilities = Pop3Capabilities.Empty;
        await RefreshCapabilitiesAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Asks CAPA; when the server refuses it, assumes the RFC 1939 baseline.</summary>
    public async Task<Pop3Capabilities> RefreshCapabilitiesAsync(CancellationToken cancellationToken = default)
    {
        EnsureIdle(Pop3SessionState.Authorization, Pop3SessionState.Transaction);
        using var op = Connection.Begin(cancellationToken);
        await SendAsync("CAPA", null, op, cancellationToken).ConfigureAwait(false);
        var status = await ReadStatusAsync("CAPA", op, cancellationToken).ConfigureAwait(false);
        if (status.Kind == Pop3StatusKind.Err)
        {
            _capabilities = Pop3ResponseParser.Baseline(ApopTimestamp is not null);
            return _capabilities;
        }

        var lines = new List<string>();
        await ReadListingAsync(op, "reading the CAPA listing", line => lines.Add(Encoding.Latin1.GetString(line)), cancellationToken).ConfigureAwait(false);
        _capabilities = Pop3ResponseParser.ParseCapabilities(lines, ApopTimestamp is not null);
        return _capabilities;
    }

    /// <summary>STAT (RFC 1939 §5).</summary>
    public async Task<Pop3Stat> GetStatAsync(CancellationToken cancellationToken = default)
    {
        EnsureIdle(Pop3SessionState.Transaction);
        var status = await CommandAsync("STAT", null, cancellationToken).ConfigureAwait(false);
        ThrowIfErr("STAT", status);
        var parts = status.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 ||
            !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var count) ||
            !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw Connection.Break(new Pop3ProtocolException($"Malformed STAT answer: '{status.Text}'"));
        }

        return new Pop3Stat(count, size);
    }

    /// <summary>LIST for every message (RFC 1939 §5).</summary>
    public async Task<IReadOnlyList<Pop3ListEntry>> ListAsync(CancellationToken cancellationToken = default)
    {
        EnsureIdle(Pop3SessionState.Transaction);
        using var op = Connection.Begin(cancellationToken);
        await SendAsync("LIST", null, op, cancellationToken).ConfigureAwait(false);
        return await ReadListResponseAsync(op, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>LIST for one message.</summary>
    public async Task<Pop3ListEntry> ListAsync(int number, CancellationToken cancellationToken = default)
    {
        EnsureIdle(Pop3SessionState.Transaction);
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);
        var status = await CommandAsync("LIST " + number.ToString(CultureInfo.InvariantCulture), null, cancellationToken).ConfigureAwait(false);
        ThrowIfErr("LIST", status);
        if (!Pop3ResponseParser.TryParseList(Encoding.Latin1.GetBytes(status.Text), out var entry))
        {
            throw Connection.Break(new Pop3ProtocolException($"Malformed LIST answer: '{status.Text}'"));
        }

        return entry;
    }

    /// <summary>UIDL for every message (RFC 1939 §7). A server without UIDL answers -ERR: <see cref="Pop3CommandException"/>.</summary>
    public async Task<IReadOnlyList<Pop3UidlEntry>> GetUidlsAsync(CancellationToken cancellationToken = default)
    {
        EnsureIdle(Pop3SessionState.Transaction);
        using var op = Connection.Begin(cancellationToken);
        await SendAsync("UIDL", null, op, cancellationToken).ConfigureAwait(false);
        var (uidls, error) = await ReadUidlResponseAsync(op, cancellationToken).ConfigureAwait(false);
        return error is null ? uidls! : throw error;
    }

    /// <summary>UIDL for one message.</summary>
    public async Task<string> GetUidlAsync(int number, CancellationToken cancellationToken = default)
    {
        EnsureIdle(Pop3SessionState.Transaction);
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);
        var status = await CommandAsync("UIDL " + number.ToString(CultureInfo.InvariantCulture), null, cancellationToken).ConfigureAwait(false);
        ThrowIfErr("UIDL", status);
        if (!Pop3ResponseParser.TryParseUidl(Encoding.Latin1.GetBytes(status.Text), out var entry) || entry.Number != number)
        {
            throw Connection.Break(new Pop3ProtocolException($"Malformed UIDL answer: '{status.Text}'"));
        }

        return entry.Uid;
    }

    /// <summary>
    /// UIDL and LIST for every message, pipelined when the server allows it. Throws <see cref="Pop3CommandException"/>
    /// when UIDL is refused (after reading the LIST answer, so the session stays usable).
    /// </summary>
    public async Task<(IReadOnlyList<Pop3UidlEntry> Uidls, IReadOnlyList<Pop3ListEntry> Sizes)> GetUidlsAndSizesAsync(
        CancellationToken cancellationToken = default)
    {
        EnsureIdle(Pop3SessionState.Transaction);
        if (!IsPipelining)
        {
            var uidls = await GetUidlsAsync(cancellationToken).ConfigureAwait(false);
            var sizes = await ListAsync(cancellationToken).ConfigureAwait(false);
            return (uidls, sizes);
        }

        using var op = Connection.Begin(cancellationToken);
        await SendBatchAsync(["UIDL", "LIST"], op, idle: true, cancellationToken).ConfigureAwait(false);
        var (uidList, error) = await ReadUidlResponseAsync(op, cancellationToken).ConfigureAwait(false);
        var list = await ReadListResponseAsync(op, cancellationToken).ConfigureAwait(false);
        return error is null ? (uidList!, list) : throw error;
    }

    private async Task<IReadOnlyList<Pop3ListEntry>> ReadListResponseAsync(Pop3Connection.Operation op, CancellationToken cancellationToken)
    {
        var (entries, error) = await ReadListingResponseAsync<Pop3ListEntry>("LIST", Pop3ResponseParser.TryParseList, op, cancellationToken).ConfigureAwait(false);
        return error is null ? entries! : throw error;
    }

    private Task<(List<Pop3UidlEntry>? Uidls, Pop3CommandException? Error)> ReadUidlResponseAsync(Pop3Connection.Operation op, CancellationToken cancellationToken) =>
        ReadListingResponseAsync<Pop3UidlEntry>("UIDL", Pop3ResponseParser.TryParseUidl, op, cancellationToken);

    /// <summary>
    /// The answer to a listing command (UIDL, LIST): its status line, then every line parsed. A refusal is returned, not
    /// thrown, so that a pipelined listing after it can still be read; a line that does not parse breaks the session.
    /// </summary>
    private async Task<(List<T>? Entries, Pop3CommandException? Error)> ReadListingResponseAsync<T>(string command, ListingLineParser<T> parse,
        Pop3Connection.Operation op, CancellationToken cancellationToken)
    {
        var status = await ReadStatusAsync(command, op, cancellationToken).ConfigureAwait(false);
        if (status.Kind == Pop3StatusKind.Err)
        {
            return (null, new Pop3CommandException(command, status.Text, status.Code));
        }

        var entries = new List<T>();
        string? bad = null;
        await ReadListingAsync(op, $"reading the {command} listing", line =>
        {
            if (parse(line, out var entry))
            {
                entries.Add(entry);
            }
            else
            {
                bad ??= Redact(Pop3ResponseParser.Sanitize(line));
            }
        }, cancellationToken).ConfigureAwait(false);
        if (bad is not null)
        {
            throw Connection.Break(new Pop3ProtocolException($"Malformed {command} line: '{bad}'"));
        }

        return (entries, null);
    }

    /// <summary>
    /// RETR (RFC 1939 §7): a stream of the message, unstuffed. Read it to its end before the next command.
    /// A refusal raises <see cref="Pop3CommandException"/>.
    /// </summary>
    public async Task<Pop3MessageStream> RetrieveAsync(int number, CancellationToken cancellationToken = default)
    {
        EnsureIdle(Pop3SessionState.Transaction);
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);
        var status = await CommandAsync("RETR " + number.ToString(CultureInfo.InvariantCulture), null, cancellationToken).ConfigureAwait(false);
        ThrowIfErr("RETR", status);
        return OpenStream(number);
    }

    /// <summary>TOP (RFC 1939 §7): the headers, the blank line and the first <paramref name="lines"/> body lines.</summary>
    public async Task<Pop3MessageStream> TopAsync(int number, int lines, CancellationToken cancellationToken = default)
    {
        EnsureIdle(Pop3SessionState.Transaction);
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(lines);
        var status = await CommandAsync(
            string.Create(CultureInfo.InvariantCulture, $"TOP {number} {lines}"), null, cancellationToken).ConfigureAwait(false);
        ThrowIfErr("TOP", status);
        return OpenStream(number);
    }

    /// <summary>
    /// RETR for many messages. With PIPELINING the next RETR commands are already sent while a message is read
    /// (up to <see cref="Pop3ClientOptions.PipelineDepth"/> commands and <see cref="Pop3ClientOptions.PipelineBytes"/>
    /// announced bytes); otherwise one at a time, with the same results. Read each message's stream to its end
    /// before moving on. Leaving the loop early reads and discards what was already requested, so the session
    /// stays usable (for DELE and QUIT).
    /// </summary>
    /// <param name="messages">Message numbers with their LIST sizes (hints for the pipeline window only).</param>
    /// <param name="cancellationToken">Cancels the retrieval; the session is then closed.</param>
    public async IAsyncEnumerable<Pop3Retrieval> RetrieveManyAsync(
        IReadOnlyList<Pop3ListEntry> messages,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        EnsureIdle(Pop3SessionState.Transaction);
        var depth = IsPipelining ? _options.PipelineDepth : 1;
        var pending = new Queue<Pop3ListEntry>();
        var next = 0;
        long pendingBytes = 0;
        try
        {
            while (next < messages.Count || pending.Count > 0)
            {
                // Top up the window once it is half empty: several RETR commands in one write, so the server always
                // has work queued and a drain of many small messages costs a write per half window, not per message.
                if (next < messages.Count && pending.Count < depth &&
                    pending.Count <= depth / 2 && pendingBytes <= _options.PipelineBytes / 2)
                {
                    // Answers to the RETRs still in the window may already be buffered: only an idle connection can
                    // hold data the server sent unasked.
                    var idle = pending.Count == 0;
                    var batch = new List<string>();
                    while (next < messages.Count && pending.Count < depth &&
                           (pending.Count == 0 || pendingBytes + messages[next].Size <= _options.PipelineBytes))
                    {
                        var entry = messages[next++];
                        if (entry.Number < 1)
                        {
                            throw new ArgumentException($"Message number {entry.Number} is not valid.", nameof(messages));
                        }

                        pending.Enqueue(entry);
                        pendingBytes += Math.Max(0, entry.Size);
                        batch.Add("RETR " + entry.Number.ToString(CultureInfo.InvariantCulture));
                    }

                    using var writeOp = Connection.Begin(cancellationToken);
                    await SendBatchAsync(batch, writeOp, idle, cancellationToken).ConfigureAwait(false);
                }

                var current = pending.Dequeue();
                pendingBytes -= Math.Max(0, current.Size);
                Pop3Status status;
                using (var op = Connection.Begin(cancellationToken))
                {
                    status = await ReadStatusAsync("RETR", op, cancellationToken).ConfigureAwait(false);
                }

                if (status.Kind == Pop3StatusKind.Err)
                {
                    yield return new Pop3Retrieval(current.Number, null, new Pop3CommandException("RETR " + current.Number.ToString(CultureInfo.InvariantCulture), status.Text, status.Code));
                    continue;
                }

                var stream = OpenStream(current.Number);
                yield return new Pop3Retrieval(current.Number, stream, null);
                if (!stream.IsCompleted)
                {
                    Connection.ThrowIfBroken();
                    throw new InvalidOperationException($"Message {current.Number} was not read to its end before the next one was asked for.");
                }
            }
        }
        finally
        {
            // Leaving early: drain what is on the wire so that DELE and QUIT can follow.
            if (pending.Count > 0 || _openStream is not null)
            {
                await DrainAsync(pending, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task DrainAsync(Queue<Pop3ListEntry> pending, CancellationToken cancellationToken)
    {
        if (_connection is null || _connection.IsBroken)
        {
            return;
        }

        if (_openStream is { IsCompleted: false } open)
        {
            await open.DrainAsync(cancellationToken).ConfigureAwait(false);
        }

        while (pending.Count > 0 && !_connection.IsBroken)
        {
            var entry = pending.Dequeue();
            Pop3Status status;
            using (var op = Connection.Begin(cancellationToken))
            {
                status = await ReadStatusAsync("RETR", op, cancellationToken).ConfigureAwait(false);
            }

            if (status.Kind == Pop3StatusKind.Ok)
            {
                await OpenStream(entry.Number).DrainAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>DELE (RFC 1939 §6): marks a message; QUIT commits.</summary>
    public async Task DeleteAsync(int number, CancellationToken cancellationToken = default)
    {
        EnsureIdle(Pop3SessionState.Transaction);
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);
        var status = await CommandAsync("DELE " + number.ToString(CultureInfo.InvariantCulture), null, cancellationToken).ConfigureAwait(false);
        ThrowIfErr("DELE", status);
    }

    /// <summary>DELE for many messages, pipelined in windows when the server allows it. Refusals are returned, not thrown.</summary>
    public async Task<IReadOnlyList<Pop3DeleteResult>> DeleteManyAsync(IReadOnlyList<int> numbers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(numbers);
        EnsureIdle(Pop3SessionState.Transaction);
        var results = new List<Pop3DeleteResult>(numbers.Count);
        var window = IsPipelining ? 256 : 1;
        for (var offset = 0; offset < numbers.Count; offset += window)
        {
            var count = Math.Min(window, numbers.Count - offset);
            var commands = new List<string>(count);
            for (var i = 0; i < count; i++)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(numbers[offset + i], 1);
                commands.Add("DELE " + numbers[offset + i].ToString(CultureInfo.InvariantCulture));
            }

            using var op = Connection.Begin(cancellationToken);
            await SendBatchAsync(commands, op, idle: true, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < count; i++)
            {
                var status = await ReadStatusAsync("DELE", op, cancellationToken).ConfigureAwait(false);
                var number = numbers[offset + i];
                results.Add(new Pop3DeleteResult(number, status.Kind == Pop3StatusKind.Ok
                    ? null
                    : new Pop3CommandException("DELE " + number.ToString(CultureInfo.InvariantCulture), status.Text, status.Code)));
            }
        }

        return results;
    }

    /// <summary>NOOP (RFC 1939 §5).</summary>
    public async Task NoopAsync(CancellationToken cancellationToken = default)
    {
        EnsureIdle(Pop3SessionState.Transaction);
        ThrowIfErr("NOOP", await CommandAsync("NOOP", null, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>RSET (RFC 1939 §5): unmarks every message marked for deletion.</summary>
    public async Task ResetAsync(CancellationToken cancellationToken = default)
    {
        EnsureIdle(Pop3SessionState.Transaction);
        ThrowIfErr("RSET", await CommandAsync("RSET", null, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// QUIT (RFC 1939 §6). True when the server answered +OK: in the TRANSACTION state, that is the server's word
    /// that the marked messages are deleted. False when it answered -ERR: nothing was committed. A lost connection
    /// raises <see cref="Pop3ConnectionException"/>: whether anything was committed is then unknown.
    /// </summary>
    public async Task<bool> QuitAsync(CancellationToken cancellationToken = default)
    {
        EnsureIdle(Pop3SessionState.Authorization, Pop3SessionState.Transaction);
        var status = await CommandAsync("QUIT", null, cancellationToken).ConfigureAwait(false);
        _state = Pop3SessionState.Closed;
        await Connection.DisposeAsync().ConfigureAwait(false);
        return status.Kind == Pop3StatusKind.Ok;
    }

    /// <summary>Closes the connection without QUIT: nothing marked is deleted (RFC 1939 §6).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        if (_state != Pop3SessionState.Closed)
        {
            _state = Pop3SessionState.Broken;
        }
    }

    private Pop3Connection Connection => _connection ?? throw new InvalidOperationException("The client is not connected.");

    private Pop3MessageStream OpenStream(int number)
    {
        var stream = new Pop3MessageStream(Connection, number, _options.Timeout, completed =>
        {
            if (ReferenceEquals(_openStream, completed))
            {
                _openStream = null;
            }
        });
        _openStream = stream;
        return stream;
    }

    private async Task<Pop3Status> CommandAsync(string command, string? traceText, CancellationToken cancellationToken)
    {
        using var op = Connection.Begin(cancellationToken);
        await SendAsync(command, traceText, op, cancellationToken).ConfigureAwait(false);
        return await ReadStatusAsync(command.Split(' ')[0], op, cancellationToken).ConfigureAwait(false);
    }

    private async Task SendAsync(string command, string? traceText, Pop3Connection.Operation op, CancellationToken cancellationToken)
    {
        _ = op;
        var connection = Connection;
        connection.ThrowIfBroken();

        // A server that talks before it is asked is out of step; its answers cannot be matched to commands.
        if (connection.HasUnexpectedData)
        {
            throw connection.Break(new Pop3ProtocolException(
                $"The server sent data before the command {(traceText ?? command).Split(' ')[0]} was sent: '{Redact(Pop3ResponseParser.Sanitize(connection.Buffered))}'"));
        }

        TraceSent(traceText ?? command);
        var bytes = new byte[Encoding.UTF8.GetByteCount(command) + 2];
        Encoding.UTF8.GetBytes(command, bytes);
        bytes[^2] = (byte)'\r';
        bytes[^1] = (byte)'\n';
        await connection.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }

    private async Task SendBatchAsync(IReadOnlyList<string> commands, Pop3Connection.Operation op, bool idle, CancellationToken cancellationToken)
    {
        // Pipelined commands may go out while earlier answers are still arriving (idle false): data in the buffer is
        // expected then. With nothing outstanding, data would mean a server out of step.
        _ = op;
        if (commands.Count == 0)
        {
            return; // the byte budget let nothing more into the window
        }

        if (idle && Connection.HasUnexpectedData)
        {
            throw Connection.Break(new Pop3ProtocolException(
                $"The server sent data before the command {commands[0].Split(' ')[0]} was sent: '{Redact(Pop3ResponseParser.Sanitize(Connection.Buffered))}'"));
        }

        var builder = new StringBuilder();
        foreach (var command in commands)
        {
            TraceSent(command);
            builder.Append(command).Append("\r\n");
        }

        await Connection.WriteAsync(Encoding.ASCII.GetBytes(builder.ToString()), cancellationToken).ConfigureAwait(false);
    }

    private async Task<Pop3Status> ReadStatusAsync(string command, Pop3Connection.Operation op, CancellationToken cancellationToken)
    {
        var line = await Connection.ReadLineAsync(op, $"waiting for the answer to {command}", cancellationToken).ConfigureAwait(false);
        var status = Pop3ResponseParser.ParseStatus(line.Span);
        status = status with { Text = Redact(status.Text) };
        TraceReceived(Redact(Pop3ResponseParser.Sanitize(line.Span)));
        if (status.Kind == Pop3StatusKind.Garbage)
        {
            throw Connection.Break(new Pop3ProtocolException(
                $"The server answered {command} with something that is not a POP3 status line: '{status.Text}'"));
        }

        if (status.Kind == Pop3StatusKind.Continuation && !command.StartsWith("AUTH", StringComparison.Ordinal))
        {
            throw Connection.Break(new Pop3ProtocolException(
                $"The server answered {command} with a SASL continuation: '{Redact(Pop3ResponseParser.Sanitize(line.Span))}'"));
        }

        return status;
    }

    /// <summary>Reads a multi-line listing to its ".", unstuffing lines (RFC 1939 §3), within the byte limit.</summary>
    private async Task ReadListingAsync(Pop3Connection.Operation op, string what, ListingLineHandler onLine, CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            var memory = await Connection.ReadLineAsync(op, what, cancellationToken).ConfigureAwait(false);
            var line = memory.Span;
            total += line.Length + 2;
            if (total > _options.MaxListingBytes)
            {
                throw Connection.Break(new Pop3ProtocolException(
                    $"The server's answer exceeded {_options.MaxListingBytes} bytes while {what}."));
            }

            if (line.Length > 0 && line[0] == (byte)'.')
            {
                if (line.Length == 1)
                {
                    return;
                }

                line = line[1..];
            }

            onLine(line);
        }
    }

    private delegate void ListingLineHandler(ReadOnlySpan<byte> line);

    private delegate bool ListingLineParser<T>(ReadOnlySpan<byte> line, out T entry);

    private void ThrowIfErr(string command, Pop3Status status)
    {
        if (status.Kind == Pop3StatusKind.Err)
        {
            throw new Pop3CommandException(command, status.Text, status.Code);
        }
    }

    private void EnsureIdle(params ReadOnlySpan<Pop3SessionState> states)
    {
        if (_connection is null)
        {
            throw new InvalidOperationException("The client is not connected.");
        }

        _connection.ThrowIfBroken();
        if (_openStream is not null)
        {
            throw new InvalidOperationException($"Message {_openStream.Number} must be read to its end before the next command.");
        }

        if (!states.Contains(_state))
        {
            throw new InvalidOperationException($"That command is not allowed in the {_state} state.");
        }
    }

    private static void EnsureNoLineBreaks(string value, string what)
    {
        if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException($"The {what} contains a line break, which would inject a POP3 command.");
        }
    }

    private static void EnsureNoNul(string user, string password)
    {
        if (user.Contains('\0', StringComparison.Ordinal) || password.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("SASL PLAIN credentials cannot contain NUL characters.");
        }
    }

    private void AddSecret(string? secret) => _redactor.Add(secret);

    private string Redact(string text) => _redactor.Redact(text);

    private void TraceSent(string line)
    {
        if (_options.Trace is { IsEnabled: true } trace)
        {
            trace.Sent(line);
        }
    }

    private void TraceReceived(string line)
    {
        if (_options.Trace is { IsEnabled: true } trace)
        {
            trace.Received(line);
        }
    }
}
