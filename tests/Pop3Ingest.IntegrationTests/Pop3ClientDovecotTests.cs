using System.Text;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.IntegrationTests;

/// <summary>The POP3 client against a real Dovecot started by the test.</summary>
public sealed class Pop3ClientDovecotTests
{
    private static readonly DovecotServerOptions s_users = new() { Users = [("alice", "s3cret")] };

    private static Pop3ClientOptions Plain(DovecotServer server, bool pipelining = true) => new()
    {
        Host = server.Host,
        Port = server.Port,
        Security = Pop3Security.None,
        AllowInsecureAuth = true,
        UsePipelining = pipelining,
        Timeout = TimeSpan.FromSeconds(20),
    };

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Theory]
    [InlineData(Pop3AuthMethod.UserPass)]
    [InlineData(Pop3AuthMethod.Plain)]
    [InlineData(Pop3AuthMethod.Login)]
    [InlineData(Pop3AuthMethod.Apop)]
    public async Task Every_auth_method_logs_in(Pop3AuthMethod method)
    {
        await using var server = await DovecotServer.StartAsync(s_users);
        await using var client = new Pop3Client(Plain(server));
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("alice", "s3cret"), method);
        Assert.Equal(Pop3SessionState.Transaction, client.State);
        Assert.Equal(new Pop3Stat(0, 0), await client.GetStatAsync());
        Assert.True(await client.QuitAsync());
    }

    [Fact]
    public async Task Wrong_password_is_an_authentication_error()
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("alice", "s3cret")], ExtraConfig = "auth_failure_delay = 0" });
        await using var client = new Pop3Client(Plain(server));
        await client.ConnectAsync();
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(
            () => client.AuthenticateAsync(Pop3Credentials.FromPassword("alice", "wrong"), Pop3AuthMethod.Plain));
        Assert.False(error.IsTransient);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Listing_top_and_retr_match_the_maildir_byte_for_byte(bool pipelining)
    {
        await using var server = await DovecotServer.StartAsync(s_users);
        var messages = Enumerable.Range(1, 30).Select(i => TestMessages.Create(i, TestMessages.SizeFor(i))).ToArray();
        foreach (var message in messages)
        {
            server.Deliver("alice", message);
        }

        await using var client = new Pop3Client(Plain(server, pipelining));
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("alice", "s3cret"));
        Assert.Equal(pipelining, client.IsPipelining);
        var (uidls, sizes) = await client.GetUidlsAndSizesAsync();
        Assert.Equal(30, uidls.Count);
        Assert.Equal(30, uidls.Select(u => u.Uid).Distinct().Count());
        Assert.Equal(messages.Select(m => (long)TestMessages.ToCrlf(m).Length), sizes.Select(s => s.Size));
        Assert.Equal(uidls[4].Uid, await client.GetUidlAsync(5));
        Assert.Equal(sizes[4], await client.ListAsync(5));

        var top = await ReadAllAsync(await client.TopAsync(3, 0));
        var expected3 = Encoding.ASCII.GetString(TestMessages.ToCrlf(messages[2]));
        Assert.Equal(expected3[..(expected3.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)], Encoding.ASCII.GetString(top));

        var index = 0;
        await foreach (var item in client.RetrieveManyAsync(sizes))
        {
            Assert.Null(item.Error);
            var bytes = await ReadAllAsync(item.Content!);
            Assert.Equal(TestMessages.ToCrlf(messages[index]), bytes);
            index++;
        }

        Assert.Equal(30, index);
        Assert.True(await client.QuitAsync());
    }

    [Fact]
    public async Task Dele_and_quit_deletes_but_a_dropped_connection_deletes_nothing()
    {
        await using var server = await DovecotServer.StartAsync(s_users);
        for (var i = 1; i <= 4; i++)
        {
            server.Deliver("alice", TestMessages.Create(i, 1000));
        }

        await using (var dropped = new Pop3Client(Plain(server)))
        {
            await dropped.ConnectAsync();
            await dropped.AuthenticateAsync(Pop3Credentials.FromPassword("alice", "s3cret"));
            var results = await dropped.DeleteManyAsync([1, 2, 3]);
            Assert.All(results, r => Assert.True(r.Marked));

            // Disposing without QUIT drops the connection: RFC 1939 §6, no UPDATE state.
        }

        await WaitForCountAsync(server, 4);
        await using var client = new Pop3Client(Plain(server));
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("alice", "s3cret"));
        Assert.Equal(4, (await client.GetStatAsync()).Count);
        await client.DeleteManyAsync([1, 2]);
        await client.ResetAsync();
        await client.DeleteAsync(4);
        Assert.True(await client.QuitAsync());
        await WaitForCountAsync(server, 3);
    }

    [Fact]
    public async Task Starttls_upgrades_and_asks_capa_again()
    {
        await using var server = await DovecotServer.StartAsync(s_users);
        server.Deliver("alice", TestMessages.Create(1, 5000));
        await using var client = new Pop3Client(Plain(server) with
        {
            Security = Pop3Security.StartTls,
            AllowInsecureAuth = false,
            CertificateSha256 = server.CertificateSha256,
        });
        await client.ConnectAsync();
        Assert.True(client.IsEncrypted);
        Assert.False(client.Capabilities.Has(Pop3CapabilityFlags.Stls));
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("alice", "s3cret"));
        await using var message = await client.RetrieveAsync(1);
        Assert.Equal(TestMessages.ToCrlf(TestMessages.Create(1, 5000)), await ReadAllAsync(message));
    }

    [Fact]
    public async Task Implicit_tls_with_a_pinned_certificate_works()
    {
        await using var server = await DovecotServer.StartAsync(s_users);
        await using var client = new Pop3Client(new Pop3ClientOptions
        {
            Host = server.Host,
            Port = server.TlsPort,
            Security = Pop3Security.Tls,
            CertificateSha256 = server.CertificateSha256.ToUpperInvariant(),
        });
        await client.ConnectAsync();
        Assert.True(client.IsEncrypted);
        Assert.Equal(server.CertificateSha256, client.ServerCertificateSha256);
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("alice", "s3cret"));
        Assert.True(await client.QuitAsync());
    }

    [Fact]
    public async Task Implicit_tls_trusts_a_ca_file_and_checks_the_name()
    {
        await using var server = await DovecotServer.StartAsync(s_users);
        await using (var client = new Pop3Client(new Pop3ClientOptions { Host = "localhost", Port = server.TlsPort, CaFile = server.CertificatePemPath }))
        {
            await client.ConnectAsync();
            Assert.True(client.IsEncrypted);
        }

        await using var wrongName = new Pop3Client(new Pop3ClientOptions
        {
            Host = server.Host, Port = server.TlsPort, CaFile = server.CertificatePemPath, TlsServerName = "mail.example.com",
        });
        var error = await Assert.ThrowsAsync<Pop3SecurityException>(() => wrongName.ConnectAsync());
        Assert.Contains("host name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Untrusted_certificate_is_refused_by_default_and_a_wrong_pin_too()
    {
        await using var server = await DovecotServer.StartAsync(s_users);
        await using (var client = new Pop3Client(new Pop3ClientOptions { Host = "localhost", Port = server.TlsPort }))
        {
            var error = await Assert.ThrowsAsync<Pop3SecurityException>(() => client.ConnectAsync());
            Assert.Contains("not trusted", error.Message, StringComparison.Ordinal);
            Assert.False(error.IsTransient);
        }

        await using var pinned = new Pop3Client(new Pop3ClientOptions { Host = server.Host, Port = server.TlsPort, CertificateSha256 = new string('a', 64) });
        var pinError = await Assert.ThrowsAsync<Pop3SecurityException>(() => pinned.ConnectAsync());
        Assert.Contains("does not match the pinned", pinError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Implicit_tls_against_the_clear_text_port_says_the_server_answered_in_clear_text()
    {
        await using var server = await DovecotServer.StartAsync(s_users);
        await using var client = new Pop3Client(new Pop3ClientOptions
        {
            Host = server.Host, Port = server.Port, Security = Pop3Security.Tls, CertificateSha256 = server.CertificateSha256,
        });
        var error = await Assert.ThrowsAsync<Pop3SecurityException>(() => client.ConnectAsync());
        Assert.Contains("the server answered in clear text", error.Message, StringComparison.Ordinal);
        Assert.Contains("Use Security StartTls", error.Message, StringComparison.Ordinal);
    }

    private static async Task WaitForCountAsync(DovecotServer server, int expected)
    {
        // Dovecot finishes the session asynchronously after the client goes away.
        for (var i = 0; i < 50 && server.MessageCount("alice") != expected; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(expected, server.MessageCount("alice"));
    }
}

/// <summary>Memory: a 100 MB message streams through in a few buffers.</summary>
[Collection(SerialCollection.Name)]
public sealed class Pop3ClientLargeMessageTests
{
    [Fact]
    public async Task A_100_mb_message_streams_without_growing_the_heap()
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("big", "pw")] });
        const int size = 100 * 1024 * 1024;
        server.Deliver("big", TestMessages.Create(1, size));

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        await using var client = new Pop3Client(new Pop3ClientOptions
        {
            Host = server.Host, Port = server.Port, Security = Pop3Security.None, AllowInsecureAuth = true,
        });
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("big", "pw"));
        await using var message = await client.RetrieveAsync(1);
        var buffer = new byte[81920];
        long total = 0;
        long peakHeap = 0;
        int read;
        while ((read = await message.ReadAsync(buffer)) > 0)
        {
            total += read;
            if ((total & 0xFFFFF) < read)
            {
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(forceFullCollection: false));
            }
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.True(total > size * 0.99, $"read {total} bytes");
        Assert.True(peakHeap - heapBefore < size / 10, $"heap grew by {peakHeap - heapBefore} bytes");
        Assert.True(allocated < size / 10, $"allocated {allocated} bytes for a {total}-byte message");
    }
}
