using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Ingestion.Mailbox;
using Npgsql;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Worker.Options;

/// <summary>
/// Every rule a configuration can break, each reported with its full key, so that a bad configuration stops
/// the host at start with a line an operator can act on.
/// </summary>
/// <remarks>With a verb's <c>--account</c> (onlyAccount), the other accounts are neither bound nor checked.</remarks>
internal sealed partial class Pop3IngestOptionsValidator(IConfiguration configuration, string? onlyAccount = null) : IValidateOptions<Pop3IngestOptions>
{
    private const string Root = Pop3IngestOptions.Section;
    private static readonly string DefaultLedgerConnectionString = new LedgerOptions().ConnectionString!;

    /// <summary>
    /// The longest waits accepted. .NET timers overflow at about 49.7 days (2^32 ms), and the timeouts are added
    /// to and scaled from each other; these bounds are far above any real need and far below that.
    /// </summary>
    internal static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(1);

    internal static readonly TimeSpan MaxSessionTimeout = TimeSpan.FromDays(7);

    internal static readonly TimeSpan MaxShutdownTimeout = TimeSpan.FromDays(1);

    /// <summary>An account name is a folder name in the store and part of blob names, event ids and metric labels.</summary>
    internal const int MaxAccountNameLength = 64;

    public ValidateOptionsResult Validate(string? name, Pop3IngestOptions options)
    {
        var errors = new List<string>();
        UnknownKeys(configuration.GetSection(Root), typeof(Pop3IngestOptions), errors, onlyAccount);
        ValidateLedger(options.Ledger, errors);
        ValidateStorage(options.Storage, errors);
        ValidateNotifications(options.Notifications, errors);

        ValidateScheduler(options.Scheduler, options.Http, errors);
        ValidateCluster(options, errors);
        InRange($"{Root}:ShutdownTimeout", options.ShutdownTimeout, TimeSpan.FromSeconds(1), MaxShutdownTimeout, errors);
        foreach (var (account, setting) in options.Pop1Conflicts)
        {
            errors.Add($"{Root}:Accounts:{account}:{setting} cannot apply to a POP1 account (Protocol Pop1); remove it.");
        }

        foreach (var (first, second) in options.FoldedAccountKeys)
        {
            // The second key is not among the accounts validated below.
            CheckAccountKey(second, errors);
            errors.Add($"{Root}:Accounts:{second}: the name is the same as {Root}:Accounts:{first} in lower case (names are matched case-insensitively); rename one.");
        }

        foreach (var account in options.Accounts.Values)
        {
            ValidateAccount(account, $"{Root}:Accounts:{account.Name}", errors);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateLedger(LedgerOptions ledger, List<string> errors)
    {
        const string key = Root + ":Ledger";
        if (ledger.PruneAfterDays < 1)
        {
            errors.Add($"{key}:PruneAfterDays must be at least 1.");
        }

        if (ledger.Provider.Equals(LedgerProviders.Postgres, StringComparison.OrdinalIgnoreCase))
        {
            ValidatePostgres(ledger.ConnectionString, ledger.ConnectionStringFile, key, errors);
            return;
        }

        if (!ledger.Provider.Equals(LedgerProviders.Sqlite, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:Provider: '{ledger.Provider}' is not a known provider (Sqlite, Postgres).");
            return;
        }

        if (ledger.ConnectionStringFile is { } file)
        {
            if (SecretFile.Problem(file) is { } problem)
            {
                errors.Add($"{key}:ConnectionStringFile: {problem}");
            }

            return;
        }

        if (string.IsNullOrWhiteSpace(ledger.ConnectionString))
        {
            errors.Add($"{key}:ConnectionString is required (for example 'Data Source=data/ledger.db').");
            return;
        }

        try
        {
            var builder = new SqliteConnectionStringBuilder(ledger.ConnectionString);
            if (string.IsNullOrEmpty(builder.DataSource))
            {
                errors.Add($"{key}:ConnectionString has no Data Source.");
            }
        }
        catch (ArgumentException e)
        {
            errors.Add($"{key}:ConnectionString is not a SQLite connection string: {e.Message}");
        }
    }

    /// <summary>A PostgreSQL connection string (or a file holding one) under <paramref name="key"/>.</summary>
    private static void ValidatePostgres(string? connectionString, string? connectionStringFile, string key, List<string> errors)
    {
        if (connectionStringFile is { } file)
        {
            if (connectionString is not null && connectionString != DefaultLedgerConnectionString)
            {
                errors.Add($"{key}: set ConnectionString or ConnectionStringFile, not both.");
            }

            if (SecretFile.Problem(file) is { } problem)
            {
                errors.Add($"{key}:ConnectionStringFile: {problem}");
            }

            return;
        }

        if (string.IsNullOrWhiteSpace(connectionString) || connectionString == DefaultLedgerConnectionString)
        {
            errors.Add($"{key}:ConnectionString (or ConnectionStringFile) is required: a PostgreSQL connection string such as 'Host=db;Database=pop3ingest;Username=pop3ingest;Password=...'.");
            return;
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (string.IsNullOrEmpty(builder.Host))
            {
                errors.Add($"{key}:ConnectionString has no Host.");
            }
        }
        catch (ArgumentException e)
        {
            errors.Add($"{key}:ConnectionString is not a PostgreSQL connection string: {e.Message}");
        }
    }

    private static void ValidateCluster(Pop3IngestOptions options, List<string> errors)
    {
        const string key = Root + ":Scheduler";
        var scheduler = options.Scheduler;
        if (!scheduler.Clustered)
        {
            if (scheduler.ConnectionString is not null || scheduler.ConnectionStringFile is not null)
            {
                errors.Add($"{key}:ConnectionString is only used with {key}:Clustered = true; set Clustered or remove it.");
            }

            return;
        }

        // Each instance with a ledger of its own would not know what the others stored: the shared schedule needs the shared ledger.
        if (!options.Ledger.Provider.Equals(LedgerProviders.Postgres, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:Clustered requires {Root}:Ledger:Provider = Postgres, so that every instance shares one ledger.");
        }

        if (scheduler.ConnectionString is not null || scheduler.ConnectionStringFile is not null)
        {
            ValidatePostgres(scheduler.ConnectionString, scheduler.ConnectionStringFile, key, errors);
        }
        else if (!options.Ledger.Provider.Equals(LedgerProviders.Postgres, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:ConnectionString (or ConnectionStringFile) is required with Clustered = true.");
        }

        if (scheduler.ClusterCheckinInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"{key}:ClusterCheckinInterval must be at least one second.");
        }

        if (scheduler.ClusterCheckinMisfireThreshold < TimeSpan.FromSeconds(1))
        {
            errors.Add($"{key}:ClusterCheckinMisfireThreshold must be at least one second.");
        }
    }

    private static void ValidateStorage(StorageOptions storage, List<string> errors)
    {
        const string key = Root + ":Storage";
        if (storage.Provider.Equals(StorageProviders.FileSystem, StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(storage.Root))
            {
                errors.Add($"{key}:Root is required for the FileSystem store.");
            }

            NotForProvider(key, StorageProviders.FileSystem, errors,
                ("ConnectionString", storage.ConnectionString), ("ConnectionStringFile", storage.ConnectionStringFile),
                ("ServiceUri", storage.ServiceUri), ("Container", storage.Container), ("ServiceVersion", storage.ServiceVersion),
                ("MaxUploadsInFlight", storage.MaxUploadsInFlight?.ToString(CultureInfo.InvariantCulture)),
                ("UploadBufferBytes", storage.UploadBufferBytes?.ToString(CultureInfo.InvariantCulture)));
            return;
        }

        if (!storage.Provider.Equals(StorageProviders.AzureBlob, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:Provider: '{storage.Provider}' is not a known provider (FileSystem, AzureBlob).");
            return;
        }

        ValidateAzureAccess(key, StorageProviders.AzureBlob, storage.ConnectionString, storage.ConnectionStringFile, storage.ServiceUri, blob: true, errors);
        if (string.IsNullOrWhiteSpace(storage.Container))
        {
            errors.Add($"{key}:Container is required for the AzureBlob store.");
        }
        else if (!StorageResourceName().IsMatch(storage.Container))
        {
            errors.Add($"{key}:Container: '{storage.Container}' is not a container name (3-63 lower-case letters, digits and single hyphens, " +
                "starting and ending with a letter or digit).");
        }

        if (storage.ServiceVersion is { } version && !AzureStorageSettings.TryParseBlobVersion(version, out _))
        {
            errors.Add($"{key}:ServiceVersion: '{version}' is not a Blob service version this program knows " +
                $"({string.Join(", ", AzureStorageSettings.KnownBlobVersions().TakeLast(4))}, or earlier); the default is {AzureStorageSettings.DefaultServiceVersion}.");
        }

        if (storage.MaxUploadsInFlight is < 1 or > StorageOptions.MostUploadsInFlight)
        {
            errors.Add($"{key}:MaxUploadsInFlight must be between 1 (no overlap) and {StorageOptions.MostUploadsInFlight}.");
        }

        if (storage.UploadBufferBytes is < StorageOptions.LeastUploadBufferBytes or > StorageOptions.MostUploadBufferBytes)
        {
            errors.Add($"{key}:UploadBufferBytes must be between {StorageOptions.LeastUploadBufferBytes} (1 MiB) and {StorageOptions.MostUploadBufferBytes} (64 GiB).");
        }
    }

    private static void ValidateNotifications(NotificationsOptions notifications, List<string> errors)
    {
        const string key = Root + ":Notifications";
        if (notifications.Provider.Equals(NotificationProviders.None, StringComparison.OrdinalIgnoreCase))
        {
            NotForProvider(key, NotificationProviders.None, errors,
                ("ConnectionString", notifications.ConnectionString), ("ConnectionStringFile", notifications.ConnectionStringFile),
                ("ServiceUri", notifications.ServiceUri), ("Queue", notifications.Queue), ("ServiceVersion", notifications.ServiceVersion),
                ("MaxSendsInFlight", notifications.MaxSendsInFlight?.ToString(CultureInfo.InvariantCulture)));
            return;
        }

        if (!notifications.Provider.Equals(NotificationProviders.AzureQueue, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:Provider: '{notifications.Provider}' is not a known provider (None, AzureQueue).");
            return;
        }

        ValidateAzureAccess(key, NotificationProviders.AzureQueue, notifications.ConnectionString, notifications.ConnectionStringFile, notifications.ServiceUri, blob: false, errors);
        if (string.IsNullOrWhiteSpace(notifications.Queue))
        {
            errors.Add($"{key}:Queue is required for the AzureQueue provider.");
        }
        else if (!StorageResourceName().IsMatch(notifications.Queue))
        {
            errors.Add($"{key}:Queue: '{notifications.Queue}' is not a queue name (3-63 lower-case letters, digits and single hyphens, " +
                "starting and ending with a letter or digit).");
        }

        if (notifications.ServiceVersion is { } version && !AzureStorageSettings.TryParseQueueVersion(version, out _))
        {
            errors.Add($"{key}:ServiceVersion: '{version}' is not a Queue service version this program knows " +
                $"({string.Join(", ", AzureStorageSettings.KnownQueueVersions().TakeLast(4))}, or earlier); the default is {AzureStorageSettings.DefaultServiceVersion}.");
        }

        if (!Enum.IsDefined(notifications.MessageEncoding))
        {
            errors.Add($"{key}:MessageEncoding must be Base64 or None.");
        }

        if (notifications.MaxSendsInFlight is < 1 or > NotificationsOptions.MostSendsInFlight)
        {
            errors.Add($"{key}:MaxSendsInFlight must be between 1 (one after the other) and {NotificationsOptions.MostSendsInFlight}.");
        }
    }

    /// <summary>Exactly one of a connection string, a connection string file, or a service URL (with Azure.Identity).</summary>
    private static void ValidateAzureAccess(string key, string provider, string? connectionString, string? connectionStringFile, string? serviceUri,
        bool blob, List<string> errors)
    {
        var given = new[] { connectionString, connectionStringFile, serviceUri }.Count(v => v is not null);
        if (given == 0)
        {
            errors.Add($"{key}:ConnectionString (or ConnectionStringFile, or ServiceUri with a managed identity) is required for the {provider} provider.");
            return;
        }

        if (given > 1)
        {
            errors.Add($"{key}: set one of ConnectionString, ConnectionStringFile and ServiceUri, not several.");
        }

        if (connectionString is not null)
        {
            CheckConnectionString($"{key}:ConnectionString", connectionString, blob, errors);
        }

        if (connectionStringFile is not null)
        {
            try
            {
                CheckConnectionString($"{key}:ConnectionStringFile ({connectionStringFile})", OptionsSetup.ReadSecretFile(connectionStringFile), blob, errors);
            }
            catch (SecretFileException e)
            {
                errors.Add($"{key}:ConnectionStringFile: {e.Message}");
            }
        }

        if (serviceUri is not null)
        {
            var service = blob ? "blob" : "queue";
            if (!Uri.TryCreate(serviceUri, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            {
                errors.Add($"{key}:ServiceUri must be an https URL such as https://myaccount.{service}.core.windows.net " +
                    "(Azure.Identity's tokens are only sent over TLS; use ConnectionString for Azurite).");
            }
            else if (!string.IsNullOrEmpty(uri.Query))
            {
                errors.Add($"{key}:ServiceUri must not carry a query; a SAS goes into ConnectionString as SharedAccessSignature.");
            }
        }
    }

    private static void CheckConnectionString(string key, string connectionString, bool blob, List<string> errors)
    {
        try
        {
            var parsed = StorageConnectionString.Parse(connectionString);
            _ = blob ? StorageEndpoint.Blob(parsed) : StorageEndpoint.Queue(parsed);
        }
        catch (FormatException e)
        {
            // The parser never echoes a key or a signature.
            errors.Add($"{key}: {e.Message}");
        }
    }

    private static void NotForProvider(string key, string provider, List<string> errors, params (string Name, string? Value)[] keys)
    {
        foreach (var (name, value) in keys)
        {
            if (value is not null)
            {
                errors.Add($"{key}:{name} is set, but {key}:Provider is {provider}, which does not use it.");
            }
        }
    }

    private static void ValidateAccount(AccountOptions account, string key, List<string> errors)
    {
        CheckAccountKey(account.Key, errors);

        if (string.IsNullOrWhiteSpace(account.Host))
        {
            errors.Add($"{key}:Host is required.");
        }
        else if (Uri.CheckHostName(account.Host) == UriHostNameType.Unknown)
        {
            errors.Add($"{key}:Host: '{account.Host}' is not a host name or address.");
        }

        if (account.Port is < 0 or > 65535)
        {
            errors.Add($"{key}:Port: {account.Port} is out of range (1-65535).");
        }

        if (account.Protocol == MailboxProtocol.Pop1)
        {
            if (account.Port == 0)
            {
                errors.Add($"{key}:Port is required with Protocol Pop1 (RFC 918 assigns none).");
            }

            if (string.IsNullOrWhiteSpace(account.Mailbox))
            {
                errors.Add($"{key}:Mailbox is required with Protocol Pop1: the mailbox to read.");
            }
            else if (account.Mailbox.Any(c => char.IsControl(c) || c == ' '))
            {
                errors.Add($"{key}:Mailbox holds a space or a control character, which cannot be sent in one RFC 918 command.");
            }
        }
        else if (account.Mailbox is not null)
        {
            errors.Add($"{key}:Mailbox applies only to Protocol Pop1; remove it.");
        }

        if (account.Security == Pop3Security.None && !account.AllowInsecureAuth)
        {
            errors.Add($"{key}:Security is None, which would send the password in clear text; set AllowInsecureAuth to true to allow that, or use Tls or StartTls.");
        }

        if (account.CertificateSha256 is { } pin)
        {
            var normalized = pin.Replace(":", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal);
            if (normalized.Length != 64 || !normalized.All(Uri.IsHexDigit))
            {
                errors.Add($"{key}:CertificateSha256 must be 64 hex digits (colons allowed).");
            }

            if (account.CaFile is not null)
            {
                errors.Add($"{key}: set CertificateSha256 or CaFile, not both.");
            }
        }

        if (account.CaFile is { } caFile && !File.Exists(caFile))
        {
            errors.Add($"{key}:CaFile: the file {caFile} does not exist.");
        }

        if (string.IsNullOrWhiteSpace(account.Username))
        {
            errors.Add($"{key}:Username is required.");
        }
        else if (account.Username.Any(char.IsControl))
        {
            errors.Add($"{key}:Username holds a control character (a line break would inject a POP3 command); remove it.");
        }

        if (account.Password is { } password && password.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            errors.Add($"{key}:Password holds a line break or NUL, which cannot be sent to a POP3 server; remove it.");
        }

        if (account.Auth != Pop3AuthMethod.XOAuth2)
        {
            if (account.Password is null && account.PasswordFile is null)
            {
                errors.Add($"{key}:Password (or PasswordFile) is required.");
            }
            else if (account.Password is not null && account.PasswordFile is not null)
            {
                errors.Add($"{key}: set Password or PasswordFile, not both.");
            }
            else if (account.PasswordFile is { } file && SecretFile.Problem(file) is { } problem)
            {
                errors.Add($"{key}:PasswordFile: {problem}");
            }
        }
        else
        {
            ValidateOAuth(account, key, errors);
        }

        ValidateSchedule(account, key, errors);

        if (account.DeletePolicy == DeletePolicy.AfterDays && account.DeleteAfterDays < 1)
        {
            errors.Add($"{key}:DeleteAfterDays must be at least 1 with DeletePolicy AfterDays.");
        }

        if (account.DeletePolicy != DeletePolicy.AfterDays && account.DeleteAfterDays != 0)
        {
            errors.Add($"{key}:DeleteAfterDays is set, but DeletePolicy is {account.DeletePolicy}; set DeletePolicy to AfterDays or remove it.");
        }

        if (account.AllowNoUidl && account.DeletePolicy != DeletePolicy.AfterStore)
        {
            errors.Add($"{key}:AllowNoUidl requires DeletePolicy AfterStore (without UIDL, a message kept on the server would be downloaded again every run).");
        }

        if (account.MaxMessagesPerRun < 0)
        {
            errors.Add($"{key}:MaxMessagesPerRun cannot be negative.");
        }

        if (account.MaxBytesPerRun < 0)
        {
            errors.Add($"{key}:MaxBytesPerRun cannot be negative.");
        }

        if (account.MaxMessageBytes < 0)
        {
            errors.Add($"{key}:MaxMessageBytes cannot be negative.");
        }

        InRange($"{key}:Timeout", account.Timeout, TimeSpan.FromSeconds(1), MaxTimeout, errors);
        if (account.SessionTimeout < account.Timeout)
        {
            errors.Add($"{key}:SessionTimeout must not be shorter than Timeout.");
        }
        else
        {
            InRange($"{key}:SessionTimeout", account.SessionTimeout, TimeSpan.FromSeconds(1), MaxSessionTimeout, errors);
        }
    }

    private static void ValidateOAuth(AccountOptions account, string key, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(account.TenantId))
        {
            errors.Add($"{key}:TenantId is required with Auth XOAuth2 (the Microsoft 365 tenant).");
        }

        if (string.IsNullOrWhiteSpace(account.ClientId))
        {
            errors.Add($"{key}:ClientId is required with Auth XOAuth2 (the app registration).");
        }

        var sources = new[] { account.ClientSecret, account.ClientSecretFile, account.ClientCertificateFile }.Count(s => !string.IsNullOrEmpty(s));
        if (sources != 1)
        {
            errors.Add($"{key}:ClientSecret, ClientSecretFile or ClientCertificateFile: set exactly one with Auth XOAuth2.");
        }

        foreach (var (name, file) in new[] { ("ClientSecretFile", account.ClientSecretFile), ("ClientCertificateFile", account.ClientCertificateFile) })
        {
            if (file is not null && SecretFile.Problem(file) is { } problem)
            {
                errors.Add($"{key}:{name}: {problem}");
            }
        }

        if (account.Password is not null || account.PasswordFile is not null)
        {
            errors.Add($"{key}:Password is not used with Auth XOAuth2; remove it.");
        }
    }

    private static void ValidateSchedule(AccountOptions account, string key, List<string> errors)
    {
        var hasSchedule = !string.IsNullOrWhiteSpace(account.Schedule);
        if (hasSchedule && account.Interval is not null)
        {
            errors.Add($"{key}: set Schedule or Interval, not both.");
        }
        else if (!hasSchedule && account.Interval is null)
        {
            errors.Add($"{key}:Interval (or Schedule) is required: when should this account be polled? (it may come from Pop3Ingest:Defaults)");
        }
        else if (account.Interval is { } interval && interval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"{key}:Interval must be at least one second.");
        }
        else if (hasSchedule && !Jobs.ScheduleSpec.TryParseCron(account.Schedule!, out var problem))
        {
            errors.Add($"{key}:Schedule: '{account.Schedule}' is not a Quartz cron expression ({problem}).");
        }
        else if (hasSchedule && !Jobs.ScheduleSpec.FiresAgain(account.Schedule!))
        {
            // Quartz refuses a trigger that will never fire; at start that would stop the whole service.
            errors.Add($"{key}:Schedule: '{account.Schedule}' never fires (a date that does not exist, or a year in the past).");
        }
    }

    private static void ValidateScheduler(SchedulerOptions scheduler, HttpOptions http, List<string> errors)
    {
        if (scheduler.MaxConcurrentAccounts < 1)
        {
            errors.Add($"{Root}:Scheduler:MaxConcurrentAccounts must be at least 1.");
        }

        if (scheduler.MaxConnectionsPerHost < 1)
        {
            errors.Add($"{Root}:Scheduler:MaxConnectionsPerHost must be at least 1.");
        }

        if (scheduler.Jitter is { } jitter)
        {
            InRange($"{Root}:Scheduler:Jitter", jitter, TimeSpan.Zero, Jobs.ScheduleSpec.MaxJitter, errors);
        }

        if (scheduler.MaxBackoff < TimeSpan.FromSeconds(1))
        {
            errors.Add($"{Root}:Scheduler:MaxBackoff must be at least one second.");
        }

        foreach (var url in (http.Urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri) ||
                uri.Scheme is not ("http" or "https"))
            {
                errors.Add($"{Root}:Http:Urls: '{url}' is not an http(s) URL.");
            }
        }

        foreach (var host in (http.AllowedHosts ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var name = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
            if (host != "*" && Uri.CheckHostName(name) != UriHostNameType.Dns)
            {
                errors.Add($"{Root}:Http:AllowedHosts: '{host}' is not a host name (IP literals and localhost are always allowed; '*.example.com' allows subdomains).");
            }
        }

        if (http.FailingThreshold <= TimeSpan.Zero)
        {
            errors.Add($"{Root}:Http:FailingThreshold must be positive.");
        }
    }

    /// <summary>
    /// A key nobody reads is almost always a typo; say which. The option types' properties are read by reflection,
    /// so every option class is named here for the ahead-of-time compiler to keep them (a test checks that each
    /// class reachable from <see cref="Pop3IngestOptions"/> is).
    /// </summary>
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(Pop3IngestOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(LedgerOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(StorageOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(NotificationsOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(AccountOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(SchedulerOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(HttpOptions))]
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Every option class is kept by the DynamicDependency attributes above.")]
    private static void UnknownKeys(IConfigurationSection section, Type type, List<string> errors, string? onlyEntry = null)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var property))
            {
                errors.Add($"{child.Path}: unknown key.");
                continue;
            }

            var propertyType = property.PropertyType;
            if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                var valueType = propertyType.GetGenericArguments()[1];
                foreach (var entry in onlyEntry is null ? child.GetChildren() : [child.GetSection(onlyEntry)])
                {
                    UnknownKeys(entry, valueType, errors);
                }
            }
            else if (propertyType.IsClass && propertyType != typeof(string))
            {
                UnknownKeys(child, propertyType, errors);
            }
        }
    }

    private static void CheckAccountKey(string name, List<string> errors)
    {
        // The key as written, not its lower-case form: ToLowerInvariant folds the Kelvin sign (U+212A) to 'k'.
        if (!AccountName().IsMatch(name))
        {
            errors.Add($"{Root}:Accounts:{name}: account names may hold ASCII letters, digits, '-' and '_' only.");
        }
        else if (name.Length > MaxAccountNameLength)
        {
            errors.Add($"{Root}:Accounts:{name.ToLowerInvariant()}: the account name has {name.Length} characters; at most {MaxAccountNameLength} are accepted (it is a folder name in the store).");
        }
    }

    /// <summary>Refuses <paramref name="value"/> outside [<paramref name="min"/>, <paramref name="max"/>], naming the range.</summary>
    private static void InRange(string key, TimeSpan value, TimeSpan min, TimeSpan max, List<string> errors)
    {
        if (value < min || value > max)
        {
            errors.Add($"{key}: {value} is out of range ({min} to {max}).");
        }
    }

    /// <summary>Account names: ASCII letters, digits, '-' and '_'.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9_-]+\z")]
    private static partial Regex AccountName();

    /// <summary>Container and queue names: 3-63 characters, lower-case letters, digits and hyphens, no hyphen at either end or twice in a row.</summary>
    [GeneratedRegex("^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")]
    private static partial Regex StorageResourceName();
}
