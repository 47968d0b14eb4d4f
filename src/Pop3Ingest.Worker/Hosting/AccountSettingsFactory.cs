using System.Collections.Concurrent;
using Azure.Core;
using Azure.Identity;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Pop3;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Hosting;

/// <summary>
/// Turns validated account options into what a run needs. Secrets are read at each run (a rotated secret file is
/// picked up); OAuth credentials are kept per account so that Azure.Identity's cache refreshes tokens before they expire.
/// </summary>
internal sealed class AccountSettingsFactory
{
    private readonly Func<AccountOptions, TokenCredential> _credentialFactory;
    private readonly ConcurrentDictionary<string, (string Key, TokenCredential Credential)> _credentials = new(StringComparer.Ordinal);

    public AccountSettingsFactory(Func<AccountOptions, TokenCredential>? credentialFactory = null)
    {
        _credentialFactory = credentialFactory ?? CreateCredential;
    }

    public AccountSettings Create(AccountOptions account) => new()
    {
        Name = account.Name,
        Protocol = account.Protocol,
        Mailbox = account.Mailbox,
        Client = new Pop3ClientOptions
        {
            Host = account.Host!,
            Port = account.Port,
            Security = account.Security,
            AllowInsecureAuth = account.AllowInsecureAuth,
            CertificateSha256 = account.CertificateSha256,
            CaFile = account.CaFile,
            Timeout = account.Timeout,
            SessionTimeout = account.SessionTimeout,
            UsePipelining = account.Pipelining,
        },
        Credentials = account.Auth == Pop3AuthMethod.XOAuth2 ? ct => TokenAsync(account, ct) : ct => PasswordAsync(account, ct),
        Auth = account.Auth,
        DeletePolicy = account.DeletePolicy,
        DeleteAfter = TimeSpan.FromDays(account.DeleteAfterDays),
        AllowNoUidl = account.AllowNoUidl,
        MaxMessagesPerRun = account.MaxMessagesPerRun,
        MaxBytesPerRun = account.MaxBytesPerRun,
        MaxMessageBytes = account.MaxMessageBytes,
    };

    private static async ValueTask<Pop3Credentials> PasswordAsync(AccountOptions account, CancellationToken cancellationToken)
    {
        string password;
        try
        {
            // A regular file is read at once; the account's Timeout still bounds a file system that hangs (NFS).
            password = account.PasswordFile is { } file
                ? await Task.Run(() => OptionsSetup.ReadSecretFile(file), cancellationToken).WaitAsync(account.Timeout, cancellationToken).ConfigureAwait(false)
                : account.Password!;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TimeoutException)
        {
            throw new CredentialsUnavailableException($"The password file of account {account.Name} cannot be read: {e.Message}", e);
        }

        // The file is read at each run, so the configuration check at start cannot vouch for its content. A line break
        // would inject a POP3 command, and a NUL cannot be sent with AUTH PLAIN: this account fails, no other.
        if (password.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            throw new CredentialsUnavailableException(
                $"The password of account {account.Name} ({account.PasswordFile ?? "Password"}) holds a line break or NUL, which cannot be sent to a POP3 server.");
        }

        return Pop3Credentials.FromPassword(account.Username!, password);
    }

    private async ValueTask<Pop3Credentials> TokenAsync(AccountOptions account, CancellationToken cancellationToken)
    {
        var key = $"{account.TenantId}|{account.ClientId}|{account.ClientSecretFile}|{account.ClientCertificateFile}|{account.ClientSecret?.GetHashCode(StringComparison.Ordinal)}";
        var entry = _credentials.AddOrUpdate(account.Name, _ => (key, _credentialFactory(account)),
            (_, existing) => existing.Key == key ? existing : (key, _credentialFactory(account)));
        try
        {
            var token = await entry.Credential.GetTokenAsync(new TokenRequestContext([account.Scope]), cancellationToken).ConfigureAwait(false);
            return Pop3Credentials.FromAccessToken(account.Username!, token.Token);
        }
        catch (Exception e) when (e is AuthenticationFailedException or CredentialUnavailableException or IOException or UnauthorizedAccessException)
        {
            // The token endpoint's answer is server text too: it must not carry the client secret into a log or /status
            // (nor through the inner exception, which is therefore not kept).
            var reason = e.Message;
            if ((account.ClientSecret ?? (account.ClientSecretFile is { } file ? TryRead(file) : null)) is { Length: > 0 } secret)
            {
                reason = reason.Replace(secret, "********", StringComparison.Ordinal);
            }

            throw new CredentialsUnavailableException($"No OAuth token for account {account.Name} from tenant {account.TenantId}: {reason}");
        }
    }

    private static string? TryRead(string file)
    {
        try
        {
            return OptionsSetup.ReadSecretFile(file);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Client credentials for Microsoft 365 (app-only POP access), with a secret or a certificate.</summary>
    private static TokenCredential CreateCredential(AccountOptions account)
    {
        if (account.ClientCertificateFile is { } certificate)
        {
            return new ClientCertificateCredential(account.TenantId, account.ClientId, certificate);
        }

        var secret = account.ClientSecretFile is { } file ? OptionsSetup.ReadSecretFile(file) : account.ClientSecret!;
        return new ClientSecretCredential(account.TenantId, account.ClientId, secret);
    }
}
