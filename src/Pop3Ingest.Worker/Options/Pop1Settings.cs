using Microsoft.Extensions.Configuration;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Worker.Options;

/// <summary>
/// What POP1 (RFC 918) cannot honour: per-message deletion after days, authentication other than USER/PASS, pipelining,
/// server-side limits per run (the mailbox comes whole), UIDL opt-outs, STLS. Set on a POP1 account itself, such a
/// setting is refused at start (exit 2, naming it); inherited from <c>Defaults</c>, where it serves the POP3 accounts, it
/// is ignored for the POP1 account (the account's own default applies).
/// </summary>
internal static class Pop1Settings
{
    public static void Apply(AccountOptions account, IConfigurationSection own, List<(string Account, string Setting)> conflicts)
    {
        bool Own(string key) => own.GetSection(key).Value is not null;

        void Refuse(string key, string setting)
        {
            if (Own(key))
            {
                conflicts.Add((account.Name, setting));
            }
        }

        if (account.DeletePolicy == DeletePolicy.AfterDays)
        {
            Refuse("DeletePolicy", "DeletePolicy AfterDays");
            account.DeletePolicy = DeletePolicy.AfterStore;
        }

        Refuse("DeleteAfterDays", "DeleteAfterDays");
        account.DeleteAfterDays = 0;
        if (account.Auth is not (Pop3AuthMethod.Auto or Pop3AuthMethod.UserPass))
        {
            Refuse("Auth", $"Auth {account.Auth}");
            account.Auth = Pop3AuthMethod.Auto;
        }

        if (account.Security is Pop3Security.StartTls or Pop3Security.StartTlsIfAvailable)
        {
            Refuse("Security", $"Security {account.Security}");
            account.Security = Pop3Security.Tls;
        }

        Refuse("Pipelining", "Pipelining");
        account.Pipelining = false;
        Refuse("AllowNoUidl", "AllowNoUidl");
        account.AllowNoUidl = false;
        Refuse("MaxMessagesPerRun", "MaxMessagesPerRun");
        account.MaxMessagesPerRun = 0;
        Refuse("MaxBytesPerRun", "MaxBytesPerRun");
        account.MaxBytesPerRun = 0;
    }
}
