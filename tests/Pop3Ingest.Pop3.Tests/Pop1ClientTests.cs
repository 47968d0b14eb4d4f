using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Pop3Ingest.Pop3.Tests.Support;

namespace Pop3Ingest.Pop3.Tests;

/// <summary>
/// The POP1 client against the scripted RFC 918 server on a loopback socket. Not run beside other classes: the
/// allocation bound counts every thread of the process.
/// </summary>
[Collection(nameof(Pop1ClientTests))]
public sealed class Pop1ClientTests
{
    private const string Lf =
        "From alice@example.org Mon Jan  1 00:00:00 2024\nSubject: one\n\nHello\n>From the quote\n\n\n" +
        "From bob@example.org Mon Jan  1 00:00:01 2024\nSubject: two\n\nBye\n";

    [Fact]
    public async Task Rdel_reads_every_message_and_rcvd_deletes_the_mailbox()
    {
        await using var server = ScriptedPop1Server.Start();
        server.Mailboxes["inbox"] = Encoding.ASCII.GetBytes(Lf);
        await using (var client = new Pop1Client(server.Options()))
        {
            await client.ConnectAsync();
            await client.AuthenticateAsync(Pop3Credentials.FromPassword(server.User, server.Password));
            Assert.Equal(Lf.Length, await client.OpenAsync("inbox", delete: true));
            var mailbox = await client.ReceiveAsync();
            var messages = await ReadAllAsync(mailbox);

            // The quoted line stays quoted; of the two empty lines before the separator only one is dropped.
            Assert.Equal(["Subject: one\n\nHello\n>From the quote\n\n", "Subject: two\n\nBye\n"], messages);
            Assert.True(await client.ConfirmAsync());
            Assert.True(await client.QuitAsync());
        }

        Assert.Equal(["USER fred", "PASS s3cret-pw", "RDEL inbox", "RCEV", "RCVD", "QUIT"], server.Commands);
        Assert.Empty(server.Mailboxes["inbox"]);

        // The state outlives the connection: the next session finds the mailbox empty.
        await using var again = new Pop1Client(server.Options());
        await again.ConnectAsync();
        await again.AuthenticateAsync(Pop3Credentials.FromPassword(server.User, server.Password));
        Assert.Equal(0, await again.OpenAsync("inbox", delete: true));
        Assert.Empty(await ReadAllAsync(await again.ReceiveAsync()));
        Assert.True(await again.ConfirmAsync());
        Assert.Empty(server.Failures);
    }

    [Fact]
    public async Task Crlf_data_keeps_its_line_endings_and_retr_keeps_the_mail()
    {
        var crlf = "From a\r\nSubject: one\r\n\r\nbody\r\n\r\nFrom b\r\nSubject: two\r\n\r\nlast\r\n";
        await using var server = ScriptedPop1Server.Start();
        server.Mailboxes["inbox"] = Encoding.ASCII.GetBytes(crlf);
        await using var client = await LoggedInAsync(server);
        await client.OpenAsync("inbox", delete: false);
        var messages = await ReadAllAsync(await client.ReceiveAsync());
        Assert.Equal(["Subject: one\r\n\r\nbody\r\n", "Subject: two\r\n\r\nlast\r\n"], messages);
        Assert.True(await client.ConfirmAsync());
        Assert.Equal(crlf, Encoding.ASCII.GetString(server.Mailboxes["inbox"]));
        Assert.Contains("RETR inbox", server.Commands);
    }

    [Fact]
    public async Task An_ok_line_before_the_data_is_a_status_not_data()
    {
        await using var server = ScriptedPop1Server.Start();
        server.Mailboxes["inbox"] = Encoding.ASCII.GetBytes(Lf);
        server.OkBeforeData = true;
        await using var client = await LoggedInAsync(server);
        await client.OpenAsync("inbox", delete: true);
        var messages = await ReadAllAsync(await client.ReceiveAsync());
        Assert.Equal(2, messages.Count);
        Assert.StartsWith("Subject: one", messages[0], StringComparison.Ordinal);
        Assert.True(await client.ConfirmAsync());
    }

    [Fact]
    public async Task An_err_to_rcvd_reports_that_nothing_was_deleted()
    {
        await using var server = ScriptedPop1Server.Start();
        server.Mailboxes["inbox"] = Encoding.ASCII.GetBytes(Lf);
        server.RefuseDelete = true;
        await using var client = await LoggedInAsync(server);
        await client.OpenAsync("inbox", delete: true);
        Assert.Equal(2, (await ReadAllAsync(await client.ReceiveAsync())).Count);
        Assert.False(await client.ConfirmAsync());
        Assert.Equal("mail not deleted", client.LastConfirmText);
        Assert.Equal(Lf, Encoding.ASCII.GetString(server.Mailboxes["inbox"]));

        // The session goes on after -ERR.
        await client.NoopAsync();
        Assert.True(await client.QuitAsync());
    }

    [Fact]
    public async Task A_drop_in_the_middle_of_the_data_names_how_much_arrived()
    {
        await using var server = ScriptedPop1Server.Start();
        server.Mailboxes["inbox"] = Encoding.ASCII.GetBytes(Lf);
        server.DropAfterOctets = 60;
        await using var client = await LoggedInAsync(server);
        await client.OpenAsync("inbox", delete: true);
        var mailbox = await client.ReceiveAsync();
        var error = await Assert.ThrowsAsync<Pop3ConnectionException>(() => ReadAllAsync(mailbox));
        Assert.Contains($"after 60 of the {Lf.Length} octets", error.Message, StringComparison.Ordinal);
        Assert.Contains("mailbox inbox", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<Pop3ConnectionException>(() => client.ConfirmAsync());
        Assert.DoesNotContain("RCVD", server.Commands);
        Assert.Equal(Lf, Encoding.ASCII.GetString(server.Mailboxes["inbox"]));
    }

    [Fact]
    public async Task A_wrong_password_fails_authentication_and_never_reaches_the_trace()
    {
        await using var server = ScriptedPop1Server.Start();
        var trace = new RecordingTrace();
        await using var client = new Pop1Client(server.Options(trace));
        await client.ConnectAsync();
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(
            () => client.AuthenticateAsync(Pop3Credentials.FromPassword(server.User, "wrong-pw-123")));
        Assert.Contains("invalid user name or password", error.Message, StringComparison.Ordinal);
        Assert.Contains("PASS ********", trace.Sent);
        Assert.DoesNotContain(trace.Sent.Concat(trace.Received), l => l.Contains("wrong-pw-123", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_password_is_masked_in_the_trace_of_a_whole_session()
    {
        await using var server = ScriptedPop1Server.Start();
        server.Mailboxes["inbox"] = Encoding.ASCII.GetBytes(Lf);
        var trace = new RecordingTrace();
        await using var client = new Pop1Client(server.Options(trace));
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword(server.User, server.Password));
        await client.OpenAsync("inbox", delete: true);
        await ReadAllAsync(await client.ReceiveAsync());
        await client.ConfirmAsync();
        await client.QuitAsync();
        Assert.Equal(["USER fred", "PASS ********", "RDEL inbox", "RCEV", "RCVD", "QUIT"], trace.Sent);
        Assert.DoesNotContain(trace.Sent.Concat(trace.Received), l => l.Contains(server.Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_mailbox_is_a_command_error_naming_it_and_the_session_goes_on()
    {
        await using var server = ScriptedPop1Server.Start();
        server.Mailboxes["inbox"] = Encoding.ASCII.GetBytes(Lf);
        await using var client = await LoggedInAsync(server);
        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => client.OpenAsync("nosuch", delete: true));
        Assert.Equal("RDEL nosuch", error.Command);
        Assert.Contains("no mailbox nosuch", error.Message, StringComparison.Ordinal);
        Assert.Equal(Lf.Length, await client.OpenAsync("inbox", delete: false));
        await client.ResetAsync();
        Assert.True(await client.QuitAsync());
    }

    [Fact]
    public async Task A_zero_size_mailbox_has_no_messages_and_no_rcev()
    {
        await using var server = ScriptedPop1Server.Start();
        server.Mailboxes["inbox"] = [];
        await using var client = await LoggedInAsync(server);
        Assert.Equal(0, await client.OpenAsync("inbox", delete: true));
        var mailbox = await client.ReceiveAsync();
        Assert.Null(await mailbox.NextMessageAsync());
        Assert.True(mailbox.IsComplete);
        Assert.True(await client.ConfirmAsync());
        Assert.Equal(["USER fred", "PASS s3cret-pw", "RDEL inbox", "RSET"], server.Commands);
    }

    [Fact]
    public async Task Data_without_a_separator_is_one_message()
    {
        var text = "Subject: lonely\r\n\r\nno From line here\r\nFrom-ish\r\n";
        await using var server = ScriptedPop1Server.Start();
        server.Mailboxes["inbox"] = Encoding.ASCII.GetBytes(text);
        await using var client = await LoggedInAsync(server);
        await client.OpenAsync("inbox", delete: true);
        Assert.Equal([text], await ReadAllAsync(await client.ReceiveAsync()));
        Assert.True(await client.ConfirmAsync());
    }

    [Fact]
    public async Task Without_tls_the_password_is_not_sent_unless_allowed()
    {
        await using var server = ScriptedPop1Server.Start();
        await using var client = new Pop1Client(server.Options(allowInsecureAuth: false));
        await client.ConnectAsync();
        await Assert.ThrowsAsync<Pop3SecurityException>(
            () => client.AuthenticateAsync(Pop3Credentials.FromPassword(server.User, server.Password)));
        await Task.Delay(100);
        Assert.DoesNotContain(server.Commands, c => c.StartsWith("PASS", StringComparison.Ordinal));
    }

    [Fact]
    public void Stls_and_a_missing_port_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new Pop1Client(new Pop3ClientOptions { Host = "h", Port = 109, Security = Pop3Security.StartTls }));
        Assert.Throws<ArgumentException>(() => new Pop1Client(new Pop3ClientOptions { Host = "h", Security = Pop3Security.None }));
    }

    [Fact]
    public async Task Implicit_tls_wraps_the_whole_session()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), null);
        await using var server = ScriptedPop1Server.Start(certificate: certificate);
        server.Mailboxes["inbox"] = Encoding.ASCII.GetBytes(Lf);
        await using var client = new Pop1Client(server.Options(allowInsecureAuth: false));
        await client.ConnectAsync();
        Assert.True(client.IsEncrypted);
        await client.AuthenticateAsync(Pop3Credentials.FromPassword(server.User, server.Password));
        await client.OpenAsync("inbox", delete: true);
        Assert.Equal(2, (await ReadAllAsync(await client.ReceiveAsync())).Count);
        Assert.True(await client.ConfirmAsync());
        Assert.True(await client.QuitAsync());
    }

    [Fact]
    public async Task A_mailbox_over_100_MB_streams_in_bounded_memory()
    {
        // 120 messages of 1 MiB, each with a 256 KiB line (longer than the receive buffer: a line is never held
        // whole): what is allocated while reading must not grow with the octets.
        var message = Encoding.ASCII.GetBytes("From x@example.org Mon Jan  1 00:00:00 2024\r\nSubject: big\r\n\r\n" +
                                              new string('a', 256 * 1024) + "\r\n" +
                                              string.Concat(Enumerable.Repeat(new string('b', 998) + "\r\n", 786)) + ">From y\r\n\r\n");
        const int count = 120;
        var data = new byte[message.Length * count];
        for (var i = 0; i < count; i++)
        {
            message.CopyTo(data, i * message.Length);
        }

        var separatorLine = Array.IndexOf(message, (byte)'\n') + 1;
        await using var server = ScriptedPop1Server.Start();
        server.Mailboxes["big"] = data;
        await using var client = await LoggedInAsync(server);
        Assert.Equal(data.Length, await client.OpenAsync("big", delete: false));
        var buffer = new byte[81920];
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var mailbox = await client.ReceiveAsync();
        long octets = 0;
        var messages = 0;
        while (await mailbox.NextMessageAsync() is { } stream)
        {
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                octets += read;
            }

            // Without its separator line, and without the empty line before the next one (or the end of the data).
            Assert.Equal(message.Length - separatorLine - 2, stream.Size);
            messages++;
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(count, messages);
        Assert.True(await client.ConfirmAsync());

        // Per message a stream object and a few tasks; the server's sends are counted too (same process).
        Assert.True(allocated < 4L * 1024 * 1024, $"{allocated} bytes allocated to read {data.Length} octets in {count} messages");
        Assert.True(octets > 100L * 1024 * 1024);
    }

    private static async Task<Pop1Client> LoggedInAsync(ScriptedPop1Server server)
    {
        var client = new Pop1Client(server.Options());
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword(server.User, server.Password));
        return client;
    }

    private static async Task<List<string>> ReadAllAsync(Pop1Mailbox mailbox)
    {
        var messages = new List<string>();
        while (await mailbox.NextMessageAsync() is { } stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(copy.Length, stream.Size);
            messages.Add(Encoding.ASCII.GetString(copy.ToArray()));
        }

        return messages;
    }
}

/// <summary>Runs <see cref="Pop1ClientTests"/> alone, so that other tests' allocations do not count against its bound.</summary>
[CollectionDefinition(nameof(Pop1ClientTests), DisableParallelization = true)]
public sealed class Pop1ClientTestsCollection;
