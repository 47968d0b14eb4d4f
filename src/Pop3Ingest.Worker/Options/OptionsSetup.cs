using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Pop3Ingest.Ingestion.Mailbox;

namespace Pop3Ingest.Worker.Options;

/// <summary>
/// Finishes binding: accounts merged over Defaults, names in lower case, relative paths resolved against the
/// configuration file's folder.
/// </summary>
internal static class OptionsSetup
{
    /// <summary>
    /// Binds every key but the accounts, which <see cref="Apply"/> binds over Defaults. Binding the accounts here as
    /// well would be wasted, and costly: each account's binding asks the configuration for its children, and the
    /// configuration answers by scanning every key there is, so N accounts cost N² (10,000 took minutes).
    /// </summary>
    public static void Bind(Pop3IngestOptions options, IConfiguration configuration)
    {
        var section = configuration.GetSection(Pop3IngestOptions.Section);
        section.GetSection("Ledger").Bind(options.Ledger);
        section.GetSection("Storage").Bind(options.Storage);
        section.GetSection("Notifications").Bind(options.Notifications);
        section.GetSection("Scheduler").Bind(options.Scheduler);
        section.GetSection("Http").Bind(options.Http);
        if (section.GetSection("Defaults").Exists())
        {
            options.Defaults = new AccountOptions();
            section.GetSection("Defaults").Bind(options.Defaults);
        }

        options.ShutdownTimeout = section.GetValue("ShutdownTimeout", options.ShutdownTimeout);
    }

    // onlyAccount: set by `check --account` and `once --account`; only that account is bound (and then validated),
    // and the others cost nothing, however many there are.
    public static void Apply(Pop3IngestOptions options, IConfiguration configuration, string baseDirectory, string? onlyAccount = null)
    {
        options.BaseDirectory = baseDirectory;
        var section = configuration.GetSection(Pop3IngestOptions.Section);
        var defaults = section.GetSection("Defaults");
        var accounts = new Dictionary<string, AccountOptions>(StringComparer.OrdinalIgnoreCase);
        var children = onlyAccount is null
            ? section.GetSection("Accounts").GetChildren()
            : section.GetSection("Accounts").GetSection(onlyAccount) is { } only && only.Exists() ? [only] : [];
        foreach (var child in children)
        {
            var account = new AccountOptions();
            defaults.Bind(account);
            child.Bind(account);
            account.Key = child.Key;
            account.Name = child.Key.ToLowerInvariant();
            if (account.Protocol == MailboxProtocol.Pop1)
            {
                Pop1Settings.Apply(account, child, options.Pop1Conflicts);
            }

            account.CaFile = Resolve(account.CaFile, baseDirectory);
            account.PasswordFile = Resolve(account.PasswordFile, baseDirectory);
            account.ClientSecretFile = Resolve(account.ClientSecretFile, baseDirectory);
            account.ClientCertificateFile = Resolve(account.ClientCertificateFile, baseDirectory);
            if (!accounts.TryAdd(account.Name, account))
            {
                // Two keys that fold to one name would be one account, and one server never polled: the validator refuses it.
                options.FoldedAccountKeys.Add((accounts[account.Name].Key, child.Key));
            }
        }

        options.Accounts = accounts;
        options.Storage.Root = Resolve(options.Storage.Root, baseDirectory);
        options.Storage.ConnectionStringFile = Resolve(options.Storage.ConnectionStringFile, baseDirectory);
        options.Notifications.ConnectionStringFile = Resolve(options.Notifications.ConnectionStringFile, baseDirectory);
        options.Ledger.ConnectionStringFile = Resolve(options.Ledger.ConnectionStringFile, baseDirectory);
        options.Scheduler.ConnectionStringFile = Resolve(options.Scheduler.ConnectionStringFile, baseDirectory);
        if (options.Ledger.ConnectionString is { Length: > 0 } connectionString &&
            options.Ledger.Provider.Equals("Sqlite", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var builder = new SqliteConnectionStringBuilder(connectionString);
                if (builder.DataSource is { Length: > 0 } dataSource && dataSource != ":memory:")
                {
                    builder.DataSource = Resolve(dataSource, baseDirectory);
                    options.Ledger.ConnectionString = builder.ToString();
                }
            }
            catch (ArgumentException)
            {
                // Left as is; the validator names the key.
            }
        }
    }

    /// <summary>The ledger's connection string, read from its file when one is configured.</summary>
    public static string LedgerConnectionString(LedgerOptions ledger) =>
        ledger.ConnectionStringFile is { } file ? ReadSecretFile(file) : ledger.ConnectionString!;

    /// <summary>
    /// The clustered job store's connection string: its own, or the ledger's when the ledger is on PostgreSQL
    /// (one database for both is the simple deployment).
    /// </summary>
    public static string SchedulerConnectionString(Pop3IngestOptions options) =>
        options.Scheduler.ConnectionStringFile is { } file ? ReadSecretFile(file)
        : options.Scheduler.ConnectionString is { Length: > 0 } connectionString ? connectionString
        : LedgerConnectionString(options.Ledger);

    public static string? Resolve(string? path, string baseDirectory) =>
        string.IsNullOrWhiteSpace(path) ? path : Path.GetFullPath(path, baseDirectory);

    /// <summary>Reads a secret file (<see cref="SecretFile"/>): its content without the trailing line break editors and kubectl add.</summary>
    public static string ReadSecretFile(string path) => SecretFile.Read(path);
}
