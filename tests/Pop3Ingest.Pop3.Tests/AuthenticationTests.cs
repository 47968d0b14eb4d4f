using System.Text;
using Pop3Ingest.Pop3.Tests.Support;

namespace Pop3Ingest.Pop3.Tests;

public sealed class AuthenticationTests
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private static async Task GreetAsync(ScriptedConnection c, string greeting = Scripts.Greeting)
    {
        await c.SendLineAsync(greeting);
        await c.ExpectAsync("CAPA");
        await Scripts.SendCapaAsync(c, Scripts.DefaultCapa);
    }

    private static async Task AfterLoginAsync(ScriptedConnection c)
    {
        await c.ExpectAsync("CAPA");
        await Scripts.SendCapaAsync(c, Scripts.DefaultCapa);
        await c.WaitForCloseAsync();
    }

    [Fact]
    public async Task Apop_digest_is_the_rfc1939_example()
    {
        // RFC 1939 §7: timestamp <1896.697170952@dbc.mtview.ca.us>, secret tanstaaf.
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await GreetAsync(c, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>");
            await c.ExpectAsync("APOP mrose c4c9334bac560ecc979e58001b3e22fb");
            await c.SendLineAsync("+OK maildrop has 1 message (369 octets)");
            await AfterLoginAsync(c);
        });
        await using var client = new Pop3Client(server.Options());
        await client.ConnectAsync();
        Assert.True(client.Capabilities.Has(Pop3CapabilityFlags.Apop));
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("mrose", "tanstaaf"), Pop3AuthMethod.Apop);
        Assert.Equal(Pop3SessionState.Transaction, client.State);
        Assert.Empty(server.Failures);
    }

    [Fact]
    public async Task Auto_picks_sasl_plain_with_an_initial_response()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await GreetAsync(c);
            await c.ExpectAsync("AUTH PLAIN " + B64("\0user\0pässword"));
            await c.SendLineAsync("+OK");
            await AfterLoginAsync(c);
        });
        await using var client = new Pop3Client(server.Options());
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("user", "pässword"));
        Assert.Empty(server.Failures);
    }

    [Fact]
    public async Task Sasl_login_answers_both_challenges()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await GreetAsync(c);
            await c.ExpectAsync("AUTH LOGIN");
            await c.SendLineAsync("+ " + B64("Username:"));
            await c.ExpectAsync(B64("user"));
            await c.SendLineAsync("+ " + B64("Password:"));
            await c.ExpectAsync(B64("pw"));
            await c.SendLineAsync("+OK");
            await AfterLoginAsync(c);
        });
        await using var client = new Pop3Client(server.Options());
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("user", "pw"), Pop3AuthMethod.Login);
        Assert.Empty(server.Failures);
    }

    [Fact]
    public async Task Xoauth2_short_token_goes_inline()
    {
        var payload = B64("user=u@example.com\u0001auth=Bearer short\u0001\u0001");
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await GreetAsync(c);
            await c.ExpectAsync("AUTH XOAUTH2 " + payload);
            await c.SendLineAsync("+OK");
            await AfterLoginAsync(c);
        });
        await using var client = new Pop3Client(server.Options());
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromAccessToken("u@example.com", "short"));
        Assert.Empty(server.Failures);
    }

    [Fact]
    public async Task Xoauth2_long_token_uses_the_two_step_form_microsoft_365_needs()
    {
        var token = new string('T', 2000);
        var payload = B64($"user=u@example.com\u0001auth=Bearer {token}\u0001\u0001");
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await GreetAsync(c);
            await c.ExpectAsync("AUTH XOAUTH2");
            await c.SendLineAsync("+ ");
            await c.ExpectAsync(payload);
            await c.SendLineAsync("+OK");
            await AfterLoginAsync(c);
        });
        await using var client = new Pop3Client(server.Options());
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromAccessToken("u@example.com", token), Pop3AuthMethod.XOAuth2);
        Assert.Empty(server.Failures);
    }

    [Fact]
    public async Task Xoauth2_failure_challenge_is_answered_and_reported_as_auth_failure()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await GreetAsync(c);
            await c.ReadCommandAsync();
            await c.SendLineAsync("+ " + B64("{\"status\":\"401\",\"schemes\":\"bearer\"}"));
            await c.ExpectAsync(string.Empty);
            await c.SendLineAsync("-ERR [AUTH] Authentication failed.");
            await c.WaitForCloseAsync();
        });
        await using var client = new Pop3Client(server.Options());
        await client.ConnectAsync();
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(
            () => client.AuthenticateAsync(Pop3Credentials.FromAccessToken("u", "expired")));
        Assert.Equal("XOAUTH2", error.Mechanism);
        Assert.Empty(server.Failures);
    }

    [Fact]
    public async Task Credentials_are_refused_over_clear_text_unless_allowed()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await GreetAsync(c);
            Assert.Null(await c.ReadCommandAsync());
        });
        await using var client = new Pop3Client(server.Options(o => o.AllowInsecureAuth = false));
        await client.ConnectAsync();
        var error = await Assert.ThrowsAsync<Pop3SecurityException>(
            () => client.AuthenticateAsync(Pop3Credentials.FromPassword("u", "p")));
        Assert.Contains("AllowInsecureAuth", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Commands, c => c.StartsWith("USER", StringComparison.Ordinal) || c.StartsWith("AUTH", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Starttls_required_but_not_offered_fails_without_sending_credentials()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await GreetAsync(c);
            Assert.Null(await c.ReadCommandAsync());
        });
        await using var client = new Pop3Client(server.Options(o => o.Security = Pop3Security.StartTls));
        await Assert.ThrowsAsync<Pop3SecurityException>(() => client.ConnectAsync());
    }

    [Fact]
    public async Task Starttls_advertised_then_refused_never_falls_back_to_clear_text()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await c.SendLineAsync(Scripts.Greeting);
            await c.ExpectAsync("CAPA");
            await Scripts.SendCapaAsync(c, ["USER", "STLS"]);
            await c.ExpectAsync("STLS");
            await c.SendLineAsync("-ERR TLS not available right now");
            Assert.Null(await c.ReadCommandAsync());
        });
        await using var client = new Pop3Client(server.Options(o => o.Security = Pop3Security.StartTls));
        var error = await Assert.ThrowsAsync<Pop3SecurityException>(() => client.ConnectAsync());
        Assert.Contains("refused STLS", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_handshake_with_a_non_tls_server_fails_clearly()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await c.SendLineAsync(Scripts.Greeting);
            await c.WaitForCloseAsync();
        });
        await using var client = new Pop3Client(server.Options(o => { o.Security = Pop3Security.Tls; o.Timeout = TimeSpan.FromSeconds(3); }));
        await Assert.ThrowsAnyAsync<Pop3Exception>(() => client.ConnectAsync());
        Assert.Equal(Pop3SessionState.Broken, client.State);
    }

    [Fact]
    public async Task Line_breaks_in_credentials_cannot_inject_commands()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await GreetAsync(c);
            await c.WaitForCloseAsync();
        });
        await using var client = new Pop3Client(server.Options());
        await client.ConnectAsync();
        await Assert.ThrowsAsync<ArgumentException>(
            () => client.AuthenticateAsync(Pop3Credentials.FromPassword("u\r\nDELE 1", "p"), Pop3AuthMethod.UserPass));
    }
}
