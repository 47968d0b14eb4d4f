using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Pop3Ingest.Pop3.Tests.Support;

/// <summary>
/// A small RFC 918 (POP1) server on a loopback port, for tests: one user, named mailboxes whose contents persist
/// across connections (RDEL then RCVD really empties one), optional implicit TLS, and scripted faults that real
/// servers produce rarely: +OK before the data, -ERR to RCVD, a drop in the middle of the data. Every command
/// received is recorded (PASS as sent: this is a test server). Self-contained so that other test projects can
/// link it.
/// </summary>
internal sealed class ScriptedPop1Server : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly ConcurrentBag<Task> _sessions = [];
    private readonly X509Certificate2? _certificate;

    private ScriptedPop1Server(string user, string password, X509Certificate2? certificate)
    {
        User = user;
        Password = password;
        _certificate = certificate;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public string User { get; }

    public string Password { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Mailbox name to its contents (mbox data, sent as is). Missing means "no such mailbox".</summary>
    public ConcurrentDictionary<string, byte[]> Mailboxes { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Commands { get; } = new();

    public ConcurrentQueue<Exception> Failures { get; } = new();

    /// <summary>Answer RCEV with a "+OK" line before the data (RFC 918 lists +OK as RCEV's reply).</summary>
    public bool OkBeforeData { get; set; }

    /// <summary>Answer RCVD with -ERR and keep the mail (RFC 918: "the mail is not necessarily deleted").</summary>
    public bool RefuseDelete { get; set; }

    /// <summary>Close the connection after sending this many octets of the data.</summary>
    public long? DropAfterOctets { get; set; }

    /// <summary>
    /// Adds mail at the end of a mailbox (creating it), atomically with respect to RCVD, as mail delivered while a
    /// client reads: what arrives during a transaction is not what RCVD deletes.
    /// </summary>
    public void Append(string mailbox, byte[] mail)
    {
        lock (_gate)
        {
            Mailboxes[mailbox] = Mailboxes.TryGetValue(mailbox, out var current) ? [.. current, .. mail] : mail;
        }
    }

    /// <summary>How many connections were accepted.</summary>
    public int Connections => _connections;

    private int _connections;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<string, bool> _locked = new(StringComparer.Ordinal);

    public static ScriptedPop1Server Start(string user = "fred", string password = "s3cret-pw", X509Certificate2? certificate = null) =>
        new(user, password, certificate);

    /// <summary>Client options for this server: plain (or implicit TLS with a certificate), quick to time out.</summary>
    public Pop3ClientOptions Options(IPop3Trace? trace = null, bool allowInsecureAuth = true) => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        Security = _certificate is null ? Pop3Security.None : Pop3Security.Tls,
        CertificateSha256 = _certificate is null ? null : Convert.ToHexStringLower(_certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256)),
        AllowInsecureAuth = allowInsecureAuth,
        Timeout = TimeSpan.FromSeconds(10),
        SessionTimeout = TimeSpan.FromMinutes(5),
        Trace = trace,
    };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(_sessions.ToArray()).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            socket.NoDelay = true;
            Interlocked.Increment(ref _connections);
            _sessions.Add(Task.Run(() => RunAsync(socket)));
        }
    }

    private async Task RunAsync(Socket socket)
    {
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            if (_certificate is not null)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                await ssl.AuthenticateAsServerAsync(_certificate, clientCertificateRequired: false, checkCertificateRevocation: false);
                stream = ssl;
            }

            await SessionAsync(new LineReader(stream), stream);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException
                                      or System.Security.Authentication.AuthenticationException)
        {
            // The client went away; that is what many fault tests do.
        }
        catch (Exception e)
        {
            Failures.Enqueue(e);
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    private async Task SessionAsync(LineReader reader, Stream stream)
    {
        var token = _stop.Token;
        async Task Reply(string line) => await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), token);

        await Reply("+OK POP1 server ready");
        string? user = null;
        var authorized = false;
        string? open = null;
        byte[] snapshot = [];
        var delete = false;
        var sent = false;
        try
        {
            while (await reader.ReadLineAsync(token) is { } line)
            {
                Commands.Enqueue(line);
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                var verb = (space < 0 ? line : line[..space]).ToUpperInvariant();
                var argument = space < 0 ? "" : line[(space + 1)..];
                switch (verb)
                {
                    case "USER" when !authorized:
                        user = argument;
                        await Reply("+OK");
                        break;
                    case "PASS" when !authorized && user is not null:
                        authorized = user == User && argument == Password;
                        user = null;
                        await Reply(authorized ? "+OK" : "-ERR invalid user name or password");
                        break;
                    case "RETR" or "RDEL" when authorized && open is null:
                        if (!Mailboxes.TryGetValue(argument, out var content))
                        {
                            await Reply($"-ERR no mailbox {argument}");
                        }
                        else if (!_locked.TryAdd(argument, true))
                        {
                            // RFC 918: the server opens and locks the mailbox.
                            await Reply($"-ERR mailbox {argument} is locked");
                        }
                        else
                        {
                            open = argument;
                            snapshot = content;
                            delete = verb == "RDEL";
                            sent = false;
                            await Reply("#" + content.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
                        }

                        break;
                    case "RCEV" when open is not null && !sent:
                        sent = true;
                        if (OkBeforeData)
                        {
                            await Reply("+OK here it comes");
                        }

                        var data = snapshot;
                        if (DropAfterOctets is { } drop && drop < data.Length)
                        {
                            await WriteChunkedAsync(stream, data.AsMemory(0, (int)drop), token);
                            return;
                        }

                        await WriteChunkedAsync(stream, data, token);
                        break;
                    case "RCVD" when open is not null && sent:
                        if (delete && RefuseDelete)
                        {
                            await Reply("-ERR mail not deleted");
                        }
                        else
                        {
                            if (delete)
                            {
                                lock (_gate)
                                {
                                    // Delete what was sent; mail appended since stays.
                                    Mailboxes[open] = Mailboxes[open][snapshot.Length..];
                                }
                            }

                            await Reply("+OK");
                        }

                        Unlock(ref open);
                        break;
                    case "RSET":
                        Unlock(ref open);
                        await Reply("+OK");
                        break;
                    case "NOOP":
                        await Reply("+OK");
                        break;
                    case "QUIT":
                        await Reply("+OK bye");
                        return;
                    default:
                        await Reply("-ERR unexpected command");
                        break;
                }
            }
        }
        finally
        {
            // RFC 918: closing the connection aborts the transaction and unlocks the mailbox; nothing is deleted.
            Unlock(ref open);
        }
    }

    private void Unlock(ref string? open)
    {
        if (open is not null)
        {
            _locked.TryRemove(open, out _);
            open = null;
        }
    }

    private static async Task WriteChunkedAsync(Stream stream, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        const int chunk = 64 * 1024;
        for (var offset = 0; offset < data.Length; offset += chunk)
        {
            await stream.WriteAsync(data.Slice(offset, Math.Min(chunk, data.Length - offset)), token);
        }

        await stream.FlushAsync(token);
    }

    /// <summary>Reads CRLF (or LF) terminated command lines.</summary>
    private sealed class LineReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[4096];
        private int _start;
        private int _end;

        public async Task<string?> ReadLineAsync(CancellationToken token)
        {
            while (true)
            {
                var lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (lf >= 0)
                {
                    var line = Encoding.UTF8.GetString(_buffer, _start, lf - _start).TrimEnd('\r');
                    _start = lf + 1;
                    return line;
                }

                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }

                if (_end == _buffer.Length)
                {
                    throw new InvalidDataException("Command line too long.");
                }

                var read = await stream.ReadAsync(_buffer.AsMemory(_end), token);
                if (read == 0)
                {
                    return null;
                }

                _end += read;
            }
        }
    }
}
