using Pop3Ingest.Ingestion.Mailbox;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Worker.Options;

/// <summary>One POP3 account (<c>Pop3Ingest:Accounts:{name}</c>), over <c>Pop3Ingest:Defaults</c>.</summary>
public sealed class AccountOptions
{
    /// <summary>The name in lower case, as used in paths and the ledger (not a configuration key).</summary>
    internal string Name { get; set; } = string.Empty;

    /// <summary>The key it was configured under, as written (not a configuration key).</summary>
    internal string Key { get; set; } = string.Empty;

    public bool Enabled { get; set; } = true;

    /// <summary><c>Pop3</c> (the default) or <c>Pop1</c> (RFC 918).</summary>
    public MailboxProtocol Protocol { get; set; } = MailboxProtocol.Pop3;

    /// <summary>POP1: the name of the mailbox to read (required there, refused for POP3).</summary>
    public string? Mailbox { get; set; }

    public string? Host { get; set; }

    /// <summary>0 or absent: 995 with Tls, 110 otherwise.</summary>
    public int Port { get; set; }

    public Pop3Security Security { get; set; } = Pop3Security.Tls;

    public bool AllowInsecureAuth { get; set; }

    public string? CertificateSha256 { get; set; }

    public string? CaFile { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    public string? PasswordFile { get; set; }

    public Pop3AuthMethod Auth { get; set; } = Pop3AuthMethod.Auto;

    public DeletePolicy DeletePolicy { get; set; } = DeletePolicy.AfterStore;

    public int DeleteAfterDays { get; set; }

    public bool AllowNoUidl { get; set; }

    public int MaxMessagesPerRun { get; set; }

    public long MaxBytesPerRun { get; set; }

    public long MaxMessageBytes { get; set; }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Use PIPELINING when the server offers it.</summary>
    public bool Pipelining { get; set; } = true;

    /// <summary>A Quartz cron expression (seconds first, e.g. <c>0 */5 * * * ?</c>). Set this or <see cref="Interval"/>.</summary>
    public string? Schedule { get; set; }

    /// <summary>Time between runs. Set this or <see cref="Schedule"/>.</summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>XOAUTH2 with Microsoft 365: the Entra ID tenant.</summary>
    public string? TenantId { get; set; }

    /// <summary>XOAUTH2: the app registration's client id.</summary>
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public string? ClientSecretFile { get; set; }

    /// <summary>XOAUTH2: a PEM or PFX file with the client certificate (and its key) instead of a secret.</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>XOAUTH2: the token scope.</summary>
    public string Scope { get; set; } = "https://outlook.office365.com/.default";
}
