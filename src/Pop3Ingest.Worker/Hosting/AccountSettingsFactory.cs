using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Pop3;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Hosting;

/// <summary>Turns validated account options into what a run needs; secrets are read at each run, never cached here.</summary>
internal static class AccountSettingsFactory
{
    public static AccountSettings Create(AccountOptions account) => new()
    {
        Name = account.Name,
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
        Credentials = _ => ValueTask.FromResult(Pop3Credentials.FromPassword(
            account.Username!,
            account.PasswordFile is { } file ? OptionsSetup.ReadSecretFile(file) : account.Password!)),
        Auth = account.Auth,
        DeletePolicy = account.DeletePolicy,
        DeleteAfter = TimeSpan.FromDays(account.DeleteAfterDays),
        AllowNoUidl = account.AllowNoUidl,
        MaxMessagesPerRun = account.MaxMessagesPerRun,
        MaxBytesPerRun = account.MaxBytesPerRun,
        MaxMessageBytes = account.MaxMessageBytes,
    };
}
