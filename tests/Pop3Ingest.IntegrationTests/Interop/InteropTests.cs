using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Pop3;
using Xunit.Abstractions;

namespace Pop3Ingest.IntegrationTests.Interop;

/// <summary>
/// What every real POP3 server must get right with the product, one subclass per server (each class is its own xUnit
/// collection: classes run in parallel, at most two at once, AssemblyInfo.cs). Each test starts its own server, so a
/// test that deletes mail does not disturb another.
/// </summary>
public abstract class InteropTests(ITestOutputHelper output)
{
    protected ITestOutputHelper Output { get; } = output;

    private protected abstract Task<IPop3TestServer> StartServerAsync();

    /// <summary>The shape of this server's UIDs.</summary>
    protected abstract Regex UidlPattern { get; }

    /// <summary>How long this server makes a wrong password wait, as a band wide enough for a loaded machine.</summary>
    protected abstract (TimeSpan Min, TimeSpan Max) BadPasswordDelay { get; }

    /// <summary>The mailbox file changes on the first QUIT even without DELE (Mailutils): RETR differs afterwards.</summary>
    protected virtual bool FirstSessionRewritesMailbox => false;

    /// <summary>Lines TOP n k adds after the header block when k &gt; 0 (Mailutils adds an empty line).</summary>
    protected virtual string TopBodyPrefix => string.Empty;

    /// <summary>How the server's RETR relates to what was delivered (the server's rewriting at delivery or retrieval).</summary>
    private protected abstract void AssertMatchesDelivered(byte[] delivered, RetrievedMessage retrieved, bool firstSession);

    [Fact]
    public async Task Capabilities_and_every_offered_login_work()
    {
        await using var server = await StartServerAsync();
        await InteropMailbox.DeliverAllAsync(server);
        var count = InteropMailbox.Messages.Count;

        await using (var client = new Pop3Client(Pop3Sessions.PlainOptions(server)))
        {
            await client.ConnectAsync();
            var capabilities = client.Capabilities;
            Output.WriteLine($"{server.Name} greeting: {client.Greeting}; CAPA: {string.Join(" | ", capabilities.Lines)}");
            if (server.ExpectedCapabilities == Pop3CapabilityFlags.None)
            {
                // No CAPA (RFC 1939 only): the client assumes USER, TOP and UIDL and never pipelines.
                Assert.False(capabilities.Has(Pop3CapabilityFlags.Capa));
                Assert.Empty(capabilities.Lines);
                Assert.True(capabilities.Has(Pop3CapabilityFlags.User | Pop3CapabilityFlags.Top | Pop3CapabilityFlags.Uidl));
                Assert.False(capabilities.Has(Pop3CapabilityFlags.Pipelining));
            }
            else
            {
                Assert.Equal(server.ExpectedCapabilities, capabilities.Flags & ~Pop3CapabilityFlags.Apop);
            }

            Assert.Equal(
                server.ExpectedSaslMechanisms.Order(StringComparer.Ordinal),
                capabilities.SaslMechanisms.Where(m => m is "PLAIN" or "LOGIN").Order(StringComparer.Ordinal));
            Assert.Equal(server.ApopSecret is not null, client.ApopTimestamp is not null);
            Assert.True(await client.QuitAsync());
        }

        var methods = new List<Pop3AuthMethod> { Pop3AuthMethod.UserPass };
        methods.AddRange(server.ExpectedSaslMechanisms.Select(m => m == "PLAIN" ? Pop3AuthMethod.Plain : Pop3AuthMethod.Login));
        if (server.ApopSecret is not null)
        {
            methods.Add(Pop3AuthMethod.Apop);
        }

        foreach (var method in methods)
        {
            var secret = method == Pop3AuthMethod.Apop ? server.ApopSecret! : server.Password;
            await using var client = await Pop3Sessions.OpenAsync(server, Pop3Sessions.PlainOptions(server), method, secret);
            Assert.Equal(count, (await client.GetStatAsync()).Count);
            Assert.True(await client.QuitAsync(), $"QUIT after {method}");
        }

        Output.WriteLine($"{server.Name}: logged in with {string.Join(", ", methods)}");
        var plainCopy = await Pop3Sessions.RecordAsync(server);
        if (FirstSessionRewritesMailbox)
        {
            plainCopy = await Pop3Sessions.RecordAsync(server);
        }

        var tlsOptions = Pop3Sessions.PlainOptions(server) with
        {
            Security = Pop3Security.StartTls,
            AllowInsecureAuth = false,
            CertificateSha256 = server.CertificateSha256 ?? new string('0', 64),
        };
        if (server.OffersStls)
        {
            await using var client = new Pop3Client(tlsOptions);
            await client.ConnectAsync();
            Assert.True(client.IsEncrypted);
            Assert.Equal(server.CertificateSha256, client.ServerCertificateSha256);
            // RFC 2595 §4: CAPA asked again after STLS; STLS is no longer offered.
            Assert.False(client.Capabilities.Has(Pop3CapabilityFlags.Stls));
            await client.AuthenticateAsync(Pop3Credentials.FromPassword(server.User, server.Password));
            var (uidls, sizes) = await client.GetUidlsAndSizesAsync();
            Assert.Equal(plainCopy.Select(m => m.Uidl), uidls.Select(u => u.Uid));
            await using (var message = await client.RetrieveAsync(sizes[^1].Number))
            {
                Assert.Equal(plainCopy[^1].Content, await Pop3Sessions.ReadAllAsync(message));
            }

            Assert.True(await client.QuitAsync());
        }
        else
        {
            // Required STLS against a server without it: a security error, never clear text.
            await using (var client = new Pop3Client(tlsOptions))
            {
                await Assert.ThrowsAsync<Pop3SecurityException>(() => client.ConnectAsync());
            }

            // STLS if available: the refused STLS (no CAPA to say so beforehand) leaves a usable clear-text session.
            await using var fallback = await Pop3Sessions.OpenAsync(server, tlsOptions with
            {
                Security = Pop3Security.StartTlsIfAvailable,
                AllowInsecureAuth = true,
                CertificateSha256 = null,
            });
            Assert.False(fallback.IsEncrypted);
            Assert.Equal(count, (await fallback.GetStatAsync()).Count);
            Assert.True(await fallback.QuitAsync());
        }

        if (server.TlsPort is { } tlsPort)
        {
            await using var client = await Pop3Sessions.OpenAsync(server, new Pop3ClientOptions
            {
                Host = server.Host,
                Port = tlsPort,
                Security = Pop3Security.Tls,
                CertificateSha256 = server.CertificateSha256,
            }, Pop3AuthMethod.Auto);
            Assert.True(client.IsEncrypted);
            Assert.Equal(count, (await client.GetStatAsync()).Count);
            Assert.True(await client.QuitAsync());
        }
    }

    [Fact]
    public async Task Listing_retr_and_top_agree_with_and_without_pipelining()
    {
        await using var server = await StartServerAsync();
        await InteropMailbox.DeliverAllAsync(server);

        var first = await Pop3Sessions.RecordAsync(server, pipelining: false);
        var second = await Pop3Sessions.RecordAsync(server, pipelining: true);
        var third = await Pop3Sessions.RecordAsync(server, pipelining: false);
        Assert.Equal(InteropMailbox.Messages.Count, first.Count);
        AssertSameContent(second, third);
        if (FirstSessionRewritesMailbox)
        {
            Assert.NotEqual(first.Select(m => m.Content.Length), second.Select(m => m.Content.Length));
        }
        else
        {
            AssertSameContent(first, second);
        }

        foreach (var (session, isFirst) in new[] { (first, true), (third, false) })
        {
            Assert.Equal(session.Count, session.Select(m => m.Uidl).Distinct(StringComparer.Ordinal).Count());
            foreach (var message in session)
            {
                Assert.Matches(UidlPattern, message.Uidl);
                // LIST sizes are what RETR sends, for every server (Mailutils only because UIDL was asked first).
                Assert.Equal(message.ListSize, message.Content.LongLength);

                AssertMatchesDelivered(InteropMailbox.DeliveredFor(message.Content), message, isFirst);
            }
        }

        Output.WriteLine($"{server.Name}: UIDL e.g. '{third[0].Uidl}'; LIST {third[0].ListSize} vs RETR {third[0].Content.Length} bytes (first session {first[0].ListSize} vs {first[0].Content.Length})");

        foreach (var pipelining in new[] { true, false })
        {
            await using var client = await Pop3Sessions.OpenAsync(server, Pop3Sessions.PlainOptions(server, pipelining));
            Assert.Equal(pipelining && server.ExpectedCapabilities.HasFlag(Pop3CapabilityFlags.Pipelining), client.IsPipelining);
            foreach (var message in third.Where(m => m.Content.Length < 30_000).Take(3).Append(third[^1]))
            {
                var header = InteropMailbox.HeaderOf(message.Content);
                await using (var top = await client.TopAsync(message.Number, 0))
                {
                    Assert.Equal(Encoding.Latin1.GetString(header), Encoding.Latin1.GetString(await Pop3Sessions.ReadAllAsync(top)));
                }

                var threeLines = string.Concat(Lines(Encoding.Latin1.GetString(InteropMailbox.BodyOf(message.Content))).Take(3));
                await using (var top = await client.TopAsync(message.Number, 3))
                {
                    Assert.Equal(Encoding.Latin1.GetString(header) + TopBodyPrefix + threeLines, Encoding.Latin1.GetString(await Pop3Sessions.ReadAllAsync(top)));
                }
            }

            Assert.True(await client.QuitAsync());
        }
    }

    [Fact]
    public async Task Ingestion_stores_each_message_once_byte_for_byte_then_deletes_after_store()
    {
        await using var server = await StartServerAsync();
        await InteropMailbox.DeliverAllAsync(server);
        var count = InteropMailbox.Messages.Count;
        var reference = await Pop3Sessions.RecordAsync(server);
        if (FirstSessionRewritesMailbox)
        {
            reference = await Pop3Sessions.RecordAsync(server);
        }

        await using var ingestion = await IngestionHarness.CreateAsync();
        var watch = Stopwatch.StartNew();
        var never = await ingestion.RunAsync(server, DeletePolicy.Never);
        var firstRun = watch.Elapsed;
        Assert.True(never.Outcome == RunOutcome.Succeeded, $"{never.FailureKind}: {never.Error}{Environment.NewLine}{server.DiagnosticsTail()}");
        Assert.Equal((count, count, 0, 0), (never.Listed, never.Stored, never.Deleted, never.Failed));
        Assert.Equal(count, ingestion.StoredFiles(server.Name).Count);
        foreach (var message in reference)
        {
            var stored = ingestion.ReadStored(server.Name, message.Uidl);
            Assert.NotNull(stored);
            Assert.True(message.Content.AsSpan().SequenceEqual(stored), $"message {message.Number} ({message.Uidl}) differs from what RETR sent");
        }

        var again = await ingestion.RunAsync(server, DeletePolicy.Never);
        Assert.True(again.Outcome == RunOutcome.Succeeded, $"{again.FailureKind}: {again.Error}");
        Assert.Equal((count, 0, 0, 0, count), (again.Listed, again.Stored, again.AlreadyStored, again.Deleted, again.Waiting));
        Assert.Equal(count, await server.MessageCountAsync());
        AssertSameContent(reference, await Pop3Sessions.RecordAsync(server));

        var afterStore = await ingestion.RunAsync(server, DeletePolicy.AfterStore);
        Assert.True(afterStore.Outcome == RunOutcome.Succeeded, $"{afterStore.FailureKind}: {afterStore.Error}{Environment.NewLine}{server.DiagnosticsTail()}");
        Assert.Equal((count, 0, 0, count), (afterStore.Listed, afterStore.Stored, afterStore.AlreadyStored, afterStore.Deleted));
        await AssertEventuallyAsync(async () => await server.MessageCountAsync() == 0, $"{server.Name} still holds messages after QUIT");
        await using (var client = await Pop3Sessions.OpenAsync(server, Pop3Sessions.PlainOptions(server)))
        {
            Assert.Equal(new Pop3Stat(0, 0), await client.GetStatAsync());
            Assert.True(await client.QuitAsync());
        }

        Assert.Equal(count, ingestion.StoredFiles(server.Name).Count);
        Output.WriteLine($"{server.Name}: first run stored {never.Stored} messages ({never.StoredBytes} bytes) in {firstRun.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task A_wrong_password_fails_as_authentication_after_the_servers_delay()
    {
        await using var server = await StartServerAsync();
        await server.DeliverAsync(InteropMailbox.Tiny);
        await using var ingestion = await IngestionHarness.CreateAsync();

        var watch = Stopwatch.StartNew();
        var wrong = await ingestion.RunAsync(server, DeletePolicy.Never, password: "not-" + server.Password);
        var delay = watch.Elapsed;
        Output.WriteLine($"{server.Name}: wrong password refused after {delay.TotalMilliseconds:F0} ms: {wrong.Error}");
        Assert.Equal((RunOutcome.Failed, FailureKind.Authentication), (wrong.Outcome, wrong.FailureKind));
        Assert.InRange(delay, BadPasswordDelay.Min, BadPasswordDelay.Max);
        Assert.Equal(0, wrong.Stored);

        // The right password works at once afterwards: no lock-out.
        var right = await ingestion.RunAsync(server, DeletePolicy.Never);
        Assert.True(right.Outcome == RunOutcome.Succeeded, $"{right.FailureKind}: {right.Error}");
        Assert.Equal(1, right.Stored);
    }

    private protected static void AssertSameContent(IReadOnlyList<RetrievedMessage> expected, IReadOnlyList<RetrievedMessage> actual)
    {
        Assert.Equal(expected.Select(m => m.Uidl), actual.Select(m => m.Uidl));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Content.AsSpan().SequenceEqual(actual[i].Content), $"message {expected[i].Number} ({expected[i].Uidl}) changed between sessions");
        }
    }

    private protected static async Task AssertEventuallyAsync(Func<Task<bool>> condition, string message)
    {
        // Some servers finish the UPDATE state after answering QUIT.
        for (var i = 0; i < 50; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail(message);
    }

    /// <summary>What a server sends for a message stored with LF line ends: every line end as CRLF.</summary>
    private protected static byte[] Crlf(byte[] message) => TestMessages.ToCrlf(message);

    private protected static string Text(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>The lines of a text, each with its CRLF.</summary>
    private static IEnumerable<string> Lines(string text)
    {
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf("\r\n", start, StringComparison.Ordinal);
            var next = end < 0 ? text.Length : end + 2;
            yield return text[start..next];
            start = next;
        }
    }
}
