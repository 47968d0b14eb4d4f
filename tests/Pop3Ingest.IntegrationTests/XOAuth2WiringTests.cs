using Azure.Core;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Pop3;
using Pop3Ingest.Worker.Hosting;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// XOAUTH2 for Microsoft 365: the token comes from the account's TokenCredential (Azure.Identity in production, with
/// its own cache and refresh), with the configured scope, and a failed token request is an authentication failure.
/// The wire form of XOAUTH2 is tested against a scripted server in the client's tests.
/// </summary>
public sealed class XOAuth2WiringTests
{
    private static AccountOptions Account() => new()
    {
        Host = "outlook.office365.com",
        Username = "shared@contoso.example",
        Auth = Pop3AuthMethod.XOAuth2,
        TenantId = "tenant",
        ClientId = "client",
        ClientSecret = "secret",
        Interval = TimeSpan.FromMinutes(5),
    };

    [Fact]
    public async Task The_token_is_requested_with_the_scope_and_reused_per_account()
    {
        var credential = new FakeCredential();
        var created = 0;
        var factory = new AccountSettingsFactory(_ =>
        {
            created++;
            return credential;
        });
        var account = Account();
        var settings = factory.Create(account);
        var first = await settings.Credentials(CancellationToken.None);
        var second = await factory.Create(account).Credentials(CancellationToken.None);
        Assert.Equal("shared@contoso.example", first.UserName);
        Assert.Equal("token-1", first.AccessToken);
        Assert.Equal("token-2", second.AccessToken);
        Assert.Equal(["https://outlook.office365.com/.default", "https://outlook.office365.com/.default"], credential.Scopes);
        Assert.Equal(1, created);
        Assert.Null(first.Password);
    }

    [Fact]
    public async Task A_failed_token_request_is_reported_as_credentials_unavailable()
    {
        var factory = new AccountSettingsFactory(_ => new FakeCredential { Fail = true });
        var error = await Assert.ThrowsAsync<CredentialsUnavailableException>(async () => await factory.Create(Account()).Credentials(CancellationToken.None));
        Assert.Contains("tenant", error.Message, StringComparison.Ordinal);
    }

    private sealed class FakeCredential : TokenCredential
    {
        private int _issued;

        public bool Fail { get; init; }

        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            if (Fail)
            {
                throw new Azure.Identity.AuthenticationFailedException("AADSTS7000215: Invalid client secret provided.");
            }

            Scopes.AddRange(requestContext.Scopes);
            return ValueTask.FromResult(new AccessToken($"token-{++_issued}", DateTimeOffset.UtcNow.AddHours(1)));
        }
    }
}
