using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

// Proves the Dovecot harness with raw sockets, independent of the product's POP3 client.
public sealed class DovecotServerTests
{
    private static readonly TimeSpan s_testTimeout = TimeSpan.FromSeconds(60);

    private static DovecotServerOptions AliceOnly(bool enableApop = true) =>
        new() { Users = [("alice", "s3cret"), ("bob", "hunter2")], EnableApop = enableApop };

    [Fact]
    public async Task Plain_port_greets_and_CAPA_lists_STLS()
    {
        using var timeout = new CancellationTokenSource(s_testTimeout);
        var ct = timeout.Token;
        await using var server = await DovecotServer.StartAsync(AliceOnly(), ct);

        await using var pop3 = await RawPop3.ConnectAsync(server.Host, server.Port, ct);
        var greeting = await pop3.ReadLineAsync(ct);
        Assert.StartsWith("+OK", greeting, StringComparison.Ordinal);

        Assert.StartsWith("+OK", await pop3.CommandAsync("CAPA", ct), StringComparison.Ordinal);
        var capabilities = Encoding.ASCII.GetString(await pop3.ReadMultiLineAsync(ct))
            .Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("STLS", capabilities);
        Assert.Contains("UIDL", capabilities);
        Assert.Contains("USER", capabilities);
    }

    [Fact]
    public async Task User_pass_login_retrieves_delivered_messages_in_delivery_order()
    {
        using var timeout = new CancellationTokenSource(s_testTimeout);
        var ct = timeout.Token;
        await using var server = await DovecotServer.StartAsync(AliceOnly(), ct);

        // Bare LF on disk, a dot-stuffed line on the wire (RFC 1939 §3).
        var messages = Enumerable.Range(1, 5)
            .Select(i => Encoding.ASCII.GetBytes($"Subject: message {i}\nFrom: a@example.org\n\n.leading dot\nbody {i}\n"))
            .ToArray();
        foreach (var message in messages)
        {
            server.Deliver("alice", message);
        }

        Assert.Equal(5, server.MessageCount("alice"));
        Assert.All(server.MessageFiles("alice"), path => Assert.StartsWith(server.MaildirOf("alice"), path, StringComparison.Ordinal));

        await using var pop3 = await RawPop3.ConnectAsync(server.Host, server.Port, ct);
        Assert.StartsWith("+OK", await pop3.ReadLineAsync(ct), StringComparison.Ordinal);
        Assert.StartsWith("+OK", await pop3.CommandAsync("USER alice", ct), StringComparison.Ordinal);
        Assert.StartsWith("+OK", await pop3.CommandAsync("PASS s3cret", ct), StringComparison.Ordinal);

        var stat = (await pop3.CommandAsync("STAT", ct)).Split(' ');
        Assert.Equal(["+OK", "5"], stat[..2]);

        Assert.StartsWith("+OK", await pop3.CommandAsync("UIDL", ct), StringComparison.Ordinal);
        var uidls = Encoding.ASCII.GetString(await pop3.ReadMultiLineAsync(ct))
            .Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')[1])
            .ToList();
        Assert.Equal(5, uidls.Count);
        Assert.All(uidls, uidl => Assert.Matches("^[0-9a-f]{16}$", uidl));

        for (var i = 0; i < messages.Length; i++)
        {
            Assert.StartsWith("+OK", await pop3.CommandAsync($"RETR {i + 1}", ct), StringComparison.Ordinal);
            Assert.Equal(ToCrlf(messages[i]), await pop3.ReadMultiLineAsync(ct));
        }

        Assert.StartsWith("+OK", await pop3.CommandAsync("DELE 1", ct), StringComparison.Ordinal);
        Assert.StartsWith("+OK", await pop3.CommandAsync("QUIT", ct), StringComparison.Ordinal);
        await pop3.ReadToEndAsync(ct);
        Assert.Equal(4, server.MessageCount("alice"));
    }

    [Fact]
    public async Task Wrong_password_is_refused()
    {
        using var timeout = new CancellationTokenSource(s_testTimeout);
        var ct = timeout.Token;
        await using var server = await DovecotServer.StartAsync(AliceOnly(), ct);

        await using var pop3 = await RawPop3.ConnectAsync(server.Host, server.Port, ct);
        await pop3.ReadLineAsync(ct);
        await pop3.CommandAsync("USER alice", ct);
        Assert.StartsWith("-ERR", await pop3.CommandAsync("PASS wrong", ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pop3s_handshake_succeeds_when_pinning_the_sha256_fingerprint()
    {
        using var timeout = new CancellationTokenSource(s_testTimeout);
        var ct = timeout.Token;
        await using var server = await DovecotServer.StartAsync(AliceOnly(), ct);

        Assert.Matches("^[0-9a-f]{64}$", server.CertificateSha256);
        Assert.True(File.Exists(server.CertificatePemPath));
        using (var fromPem = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(server.CertificatePemPath, ct)))
        {
            Assert.Equal(server.Certificate.RawData, fromPem.RawData);
        }

        X509Certificate? seen = null;
        await using var pop3 = await RawPop3.ConnectAsync(server.Host, server.TlsPort, ct);
        await pop3.AuthenticateAsTlsClientAsync(server.CertificateSha256, certificate => seen = certificate, ct);

        Assert.StartsWith("+OK", await pop3.ReadLineAsync(ct), StringComparison.Ordinal);
        Assert.NotNull(seen);
        Assert.Equal(server.Certificate.RawData, seen.GetRawCertData());

        Assert.StartsWith("+OK", await pop3.CommandAsync("USER bob", ct), StringComparison.Ordinal);
        Assert.StartsWith("+OK", await pop3.CommandAsync("PASS hunter2", ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pop3s_handshake_fails_for_another_fingerprint()
    {
        using var timeout = new CancellationTokenSource(s_testTimeout);
        var ct = timeout.Token;
        await using var server = await DovecotServer.StartAsync(AliceOnly(), ct);

        await using var pop3 = await RawPop3.ConnectAsync(server.Host, server.TlsPort, ct);
        await Assert.ThrowsAsync<AuthenticationException>(
            () => pop3.AuthenticateAsTlsClientAsync(new string('0', 64), _ => { }, ct));
    }

    [Fact]
    public async Task STLS_upgrades_the_plain_connection()
    {
        using var timeout = new CancellationTokenSource(s_testTimeout);
        var ct = timeout.Token;
        await using var server = await DovecotServer.StartAsync(AliceOnly(), ct);
        server.Deliver("alice", "Subject: x\r\n\r\nover tls\r\n"u8.ToArray());

        await using var pop3 = await RawPop3.ConnectAsync(server.Host, server.Port, ct);
        await pop3.ReadLineAsync(ct);
        Assert.StartsWith("+OK", await pop3.CommandAsync("STLS", ct), StringComparison.Ordinal);
        await pop3.AuthenticateAsTlsClientAsync(server.CertificateSha256, _ => { }, ct);

        await pop3.CommandAsync("USER alice", ct);
        Assert.StartsWith("+OK", await pop3.CommandAsync("PASS s3cret", ct), StringComparison.Ordinal);
        Assert.StartsWith("+OK", await pop3.CommandAsync("RETR 1", ct), StringComparison.Ordinal);
        Assert.Equal("Subject: x\r\n\r\nover tls\r\n"u8.ToArray(), await pop3.ReadMultiLineAsync(ct));
    }

    [Fact]
    public async Task APOP_login_works_with_the_greeting_timestamp()
    {
        using var timeout = new CancellationTokenSource(s_testTimeout);
        var ct = timeout.Token;
        await using var server = await DovecotServer.StartAsync(AliceOnly(), ct);
        server.Deliver("alice", "Subject: apop\n\nhello\n"u8.ToArray());

        await using var pop3 = await RawPop3.ConnectAsync(server.Host, server.Port, ct);
        var greeting = await pop3.ReadLineAsync(ct);
        var timestamp = ApopTimestamp(greeting);
        Assert.NotNull(timestamp);

        var reply = await pop3.CommandAsync($"APOP alice {ApopDigest(timestamp, "s3cret")}", ct);
        Assert.StartsWith("+OK", reply, StringComparison.Ordinal);
        Assert.StartsWith("+OK 1 ", await pop3.CommandAsync("STAT", ct), StringComparison.Ordinal);

        await using var wrong = await RawPop3.ConnectAsync(server.Host, server.Port, ct);
        var otherTimestamp = ApopTimestamp(await wrong.ReadLineAsync(ct));
        Assert.NotNull(otherTimestamp);
        Assert.NotEqual(timestamp, otherTimestamp);
        Assert.StartsWith("-ERR", await wrong.CommandAsync($"APOP alice {ApopDigest(otherTimestamp, "not-it")}", ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_APOP_the_greeting_has_no_timestamp()
    {
        using var timeout = new CancellationTokenSource(s_testTimeout);
        var ct = timeout.Token;
        await using var server = await DovecotServer.StartAsync(AliceOnly(enableApop: false), ct);

        await using var pop3 = await RawPop3.ConnectAsync(server.Host, server.Port, ct);
        var greeting = await pop3.ReadLineAsync(ct);
        Assert.StartsWith("+OK", greeting, StringComparison.Ordinal);
        Assert.Null(ApopTimestamp(greeting));
    }

    [Fact]
    public async Task Several_servers_run_side_by_side_and_dispose_removes_their_folders()
    {
        using var timeout = new CancellationTokenSource(s_testTimeout);
        var ct = timeout.Token;
        var servers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => DovecotServer.StartAsync(AliceOnly(), ct)));
        try
        {
            Assert.Equal(8, servers.SelectMany(s => new[] { s.Port, s.TlsPort }).Distinct().Count());
            Assert.Equal(4, servers.Select(s => s.RootDirectory).Distinct().Count());
            Assert.Equal(4, servers.Select(s => s.CertificateSha256).Distinct().Count());

            foreach (var server in servers)
            {
                server.Deliver("bob", Encoding.ASCII.GetBytes($"Subject: {server.Port}\n\nx\n"));
                await using var pop3 = await RawPop3.ConnectAsync(server.Host, server.Port, ct);
                Assert.StartsWith("+OK", await pop3.ReadLineAsync(ct), StringComparison.Ordinal);
                await pop3.CommandAsync("USER bob", ct);
                await pop3.CommandAsync("PASS hunter2", ct);
                Assert.StartsWith("+OK 1 ", await pop3.CommandAsync("STAT", ct), StringComparison.Ordinal);
            }
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }

        Assert.All(servers, server => Assert.False(Directory.Exists(server.RootDirectory)));
    }

    private static string? ApopTimestamp(string greeting)
    {
        // RFC 1939 §7: the banner carries a msg-id style <timestamp>.
        var start = greeting.IndexOf('<', StringComparison.Ordinal);
        var end = greeting.LastIndexOf('>');
        return start >= 0 && end > start ? greeting[start..(end + 1)] : null;
    }

    private static string ApopDigest(string timestamp, string password)
    {
#pragma warning disable CA5351 // RFC 1939 §7 defines APOP with MD5.
        return Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(timestamp + password)));
#pragma warning restore CA5351
    }

    private static byte[] ToCrlf(byte[] message)
    {
        var output = new List<byte>(message.Length + 16);
        for (var i = 0; i < message.Length; i++)
        {
            if (message[i] == (byte)'\n' && (i == 0 || message[i - 1] != (byte)'\r'))
            {
                output.Add((byte)'\r');
            }

            output.Add(message[i]);
        }

        return [.. output];
    }

    /// <summary>Just enough POP3 over a socket to check the server: lines, multi-line bodies, TLS.</summary>
    private sealed class RawPop3 : IAsyncDisposable
    {
        private readonly TcpClient _client;
        private readonly byte[] _buffer = new byte[16 * 1024];
        private Stream _stream;
        private int _start;
        private int _end;

        private RawPop3(TcpClient client)
        {
            _client = client;
            _stream = client.GetStream();
        }

        public static async Task<RawPop3> ConnectAsync(string host, int port, CancellationToken cancellationToken)
        {
            var client = new TcpClient(AddressFamily.InterNetwork);
            try
            {
                await client.ConnectAsync(host, port, cancellationToken);
                return new RawPop3(client);
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }

        public async Task AuthenticateAsTlsClientAsync(string expectedSha256, Action<X509Certificate> onCertificate, CancellationToken cancellationToken)
        {
            // RFC 2595 §4: nothing may be buffered from before the handshake.
            Assert.Equal(_start, _end);
            var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = "localhost",
                    RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    {
                        if (certificate is null)
                        {
                            return false;
                        }

                        onCertificate(certificate);
                        return string.Equals(
                            Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256)),
                            expectedSha256,
                            StringComparison.Ordinal);
                    },
                },
                cancellationToken);
            _stream = ssl;
        }

        public async Task<string> CommandAsync(string command, CancellationToken cancellationToken)
        {
            await _stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), cancellationToken);
            return await ReadLineAsync(cancellationToken);
        }

        public async Task<string> ReadLineAsync(CancellationToken cancellationToken)
        {
            var line = await ReadRawLineAsync(cancellationToken)
                ?? throw new IOException("The server closed the connection.");
            return Encoding.Latin1.GetString(line, 0, line.Length - 2);
        }

        /// <summary>The body of a multi-line response, dot-unstuffed, lines ending in CRLF, without the terminator.</summary>
        public async Task<byte[]> ReadMultiLineAsync(CancellationToken cancellationToken)
        {
            using var body = new MemoryStream();
            while (true)
            {
                var line = await ReadRawLineAsync(cancellationToken)
                    ?? throw new IOException("The server closed the connection inside a multi-line response.");
                if (line is [(byte)'.', (byte)'\r', (byte)'\n'])
                {
                    return body.ToArray();
                }

                var skip = line[0] == (byte)'.' ? 1 : 0;
                body.Write(line, skip, line.Length - skip);
            }
        }

        public async Task ReadToEndAsync(CancellationToken cancellationToken)
        {
            while (await ReadRawLineAsync(cancellationToken) is not null)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stream.DisposeAsync();
            _client.Dispose();
        }

        private async Task<byte[]?> ReadRawLineAsync(CancellationToken cancellationToken)
        {
            using var line = new MemoryStream();
            while (true)
            {
                if (_start == _end)
                {
                    _start = 0;
                    _end = await _stream.ReadAsync(_buffer, cancellationToken);
                    if (_end == 0)
                    {
                        return line.Length == 0 ? null : throw new IOException("The connection ended inside a line.");
                    }
                }

                var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (newline < 0)
                {
                    line.Write(_buffer, _start, _end - _start);
                    _start = _end;
                    continue;
                }

                line.Write(_buffer, _start, newline + 1 - _start);
                _start = newline + 1;
                var bytes = line.ToArray();
                if (bytes.Length < 2 || bytes[^2] != (byte)'\r')
                {
                    throw new IOException("A line did not end in CRLF.");
                }

                return bytes;
            }
        }
    }
}
