using Microsoft.Extensions.Configuration;
using Pop3Ingest.Worker.Diagnostics;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.IntegrationTests;

/// <summary>Configuration rules, each reported with its full key; defaults merged; paths resolved.</summary>
public sealed class WorkerOptionsTests
{
    private static (Pop3IngestOptions Options, IReadOnlyList<string> Errors) Validate(Dictionary<string, string?> values, string? onlyAccount = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var options = new Pop3IngestOptions();
        OptionsSetup.Bind(options, configuration);
        OptionsSetup.Apply(options, configuration, "/srv/pop3ingest", onlyAccount);
        var result = new Pop3IngestOptionsValidator(configuration, onlyAccount).Validate(null, options);
        return (options, result.Failed ? [.. result.Failures!] : []);
    }

    private static Dictionary<string, string?> Valid() => new()
    {
        ["Pop3Ingest:Defaults:Interval"] = "00:05:00",
        ["Pop3Ingest:Defaults:Username"] = "shared-user",
        ["Pop3Ingest:Accounts:Main:Host"] = "pop.example.com",
        ["Pop3Ingest:Accounts:Main:Password"] = "pw",
    };

    [Fact]
    public void A_valid_configuration_merges_defaults_lowercases_names_and_resolves_paths()
    {
        var values = Valid();
        values["Pop3Ingest:Accounts:Main:Username"] = "own-user";
        var (options, errors) = Validate(values);
        Assert.Empty(errors);
        var account = options.Accounts["main"];
        Assert.Equal("main", account.Name);
        Assert.Equal("own-user", account.Username);
        Assert.Equal(TimeSpan.FromMinutes(5), account.Interval);
        Assert.Equal("/srv/pop3ingest/data/mail", options.Storage.Root);
        Assert.Contains("/srv/pop3ingest/data/ledger.db", options.Ledger.ConnectionString, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Pop3Ingest:Accounts:Main:Schedule", "0 */5 * * * ?", "Pop3Ingest:Accounts:main: set Schedule or Interval, not both")]
    [InlineData("Pop3Ingest:Defaults:Interval", null, "Pop3Ingest:Accounts:main:Interval (or Schedule) is required")]
    [InlineData("Pop3Ingest:Accounts:Main:Port", "70000", "Pop3Ingest:Accounts:main:Port")]
    [InlineData("Pop3Ingest:Accounts:Main:Security", "None", "Pop3Ingest:Accounts:main:Security is None")]
    [InlineData("Pop3Ingest:Accounts:Main:Password", null, "Pop3Ingest:Accounts:main:Password (or PasswordFile) is required")]
    [InlineData("Pop3Ingest:Accounts:Main:PasswordFile", "/nonexistent/secret", "Pop3Ingest:Accounts:main: set Password or PasswordFile, not both")]
    [InlineData("Pop3Ingest:Accounts:Main:Host", null, "Pop3Ingest:Accounts:main:Host is required")]
    [InlineData("Pop3Ingest:Accounts:Main:AllowNoUidl", "true", "Pop3Ingest:Accounts:main:AllowNoUidl requires DeletePolicy AfterStore")]
    [InlineData("Pop3Ingest:Accounts:Main:CertificateSha256", "abc", "Pop3Ingest:Accounts:main:CertificateSha256 must be 64 hex digits")]
    [InlineData("Pop3Ingest:Storage:Provider", "Tape", "Pop3Ingest:Storage:Provider: 'Tape' is not a known provider")]
    [InlineData("Pop3Ingest:Ledger:Provider", "Oracle", "Pop3Ingest:Ledger:Provider: 'Oracle' is not a known provider")]
    [InlineData("Pop3Ingest:Scheduler:MaxConcurrentAccounts", "0", "Pop3Ingest:Scheduler:MaxConcurrentAccounts must be at least 1")]
    [InlineData("Pop3Ingest:Http:Urls", "ftp://x", "Pop3Ingest:Http:Urls: 'ftp://x' is not an http(s) URL")]
    [InlineData("Pop3Ingest:Acounts:x:Host", "typo", "Pop3Ingest:Acounts: unknown key")]
    [InlineData("Pop3Ingest:Accounts:Main:Auth", "XOAuth2", "Pop3Ingest:Accounts:main:TenantId is required with Auth XOAuth2")]
    [InlineData("Pop3Ingest:Accounts:bad.name:Host", "h", "Pop3Ingest:Accounts:bad.name: account names may hold")]
    public void Every_rule_names_its_key(string key, string? value, string expected)
    {
        var values = Valid();
        if (key == "Pop3Ingest:Accounts:Main:AllowNoUidl")
        {
            values["Pop3Ingest:Accounts:Main:DeletePolicy"] = "Never";
        }

        if (key == "Pop3Ingest:Accounts:Main:Schedule" || key == "Pop3Ingest:Accounts:Main:PasswordFile")
        {
            values["Pop3Ingest:Accounts:Main:Interval"] = "00:01:00";
        }

        values[key] = value;
        var (_, errors) = Validate(values);
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_bad_cron_expression_is_refused_with_the_reason()
    {
        var values = Valid();
        values["Pop3Ingest:Defaults:Interval"] = null;
        values["Pop3Ingest:Accounts:Main:Schedule"] = "every five minutes";
        var (_, errors) = Validate(values);
        Assert.Contains(errors, e => e.StartsWith("Pop3Ingest:Accounts:main:Schedule: 'every five minutes' is not a Quartz cron expression", StringComparison.Ordinal));
    }

    [Fact]
    public void Secrets_never_appear_in_validation_messages()
    {
        var values = Valid();
        values["Pop3Ingest:Accounts:Main:Password"] = "hunter2-secret";
        values["Pop3Ingest:Accounts:Main:Port"] = "-1";
        values["Pop3Ingest:Accounts:Main:Security"] = "None";
        var (_, errors) = Validate(values);
        Assert.NotEmpty(errors);
        Assert.DoesNotContain(errors, e => e.Contains("hunter2-secret", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Pop3Ingest:Accounts:Main:Timeout", "60.00:00:00", "Pop3Ingest:Accounts:main:Timeout: 60.00:00:00 is out of range (00:00:01 to 1.00:00:00).")]
    [InlineData("Pop3Ingest:Accounts:Main:Timeout", "00:00:00", "Pop3Ingest:Accounts:main:Timeout: 00:00:00 is out of range (00:00:01 to 1.00:00:00).")]
    [InlineData("Pop3Ingest:Accounts:Main:SessionTimeout", "60.00:00:00", "Pop3Ingest:Accounts:main:SessionTimeout: 60.00:00:00 is out of range (00:00:01 to 7.00:00:00).")]
    [InlineData("Pop3Ingest:ShutdownTimeout", "100.00:00:00", "Pop3Ingest:ShutdownTimeout: 100.00:00:00 is out of range (00:00:01 to 1.00:00:00).")]
    [InlineData("Pop3Ingest:Scheduler:Jitter", "60.00:00:00", "Pop3Ingest:Scheduler:Jitter: 60.00:00:00 is out of range (00:00:00 to 1.00:00:00).")]
    [InlineData("Pop3Ingest:Accounts:Main:Username", "user\r\nDELE 1", "Pop3Ingest:Accounts:main:Username holds a control character")]
    [InlineData("Pop3Ingest:Accounts:Main:Password", "secret\nsecond-line", "Pop3Ingest:Accounts:main:Password holds a line break or NUL")]
    public void Values_that_would_crash_later_are_refused_with_the_accepted_range(string key, string value, string expected)
    {
        var values = Valid();
        values[key] = value;
        var (_, errors) = Validate(values);
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("0 0 0 31 2 ?")]
    [InlineData("0 0 0 1 1 ? 2020")]
    public void A_cron_expression_that_never_fires_is_refused(string cron)
    {
        var values = Valid();
        values["Pop3Ingest:Defaults:Interval"] = null;
        values["Pop3Ingest:Accounts:Main:Schedule"] = cron;
        var (_, errors) = Validate(values);
        Assert.Contains($"Pop3Ingest:Accounts:main:Schedule: '{cron}' never fires (a date that does not exist, or a year in the past).", errors);
    }

    [Fact]
    public void An_account_name_too_long_for_a_folder_is_refused()
    {
        var values = Valid();
        var name = new string('a', 300);
        values[$"Pop3Ingest:Accounts:{name}:Host"] = "pop.example.com";
        values[$"Pop3Ingest:Accounts:{name}:Password"] = "pw";
        var (_, errors) = Validate(values);
        Assert.Contains($"Pop3Ingest:Accounts:{name}: the account name has 300 characters; at most 64 are accepted (it is a folder name in the store).", errors);
    }

    [Fact]
    public void Account_names_that_fold_together_are_refused()
    {
        // U+212A KELVIN SIGN is not ASCII, but ToLowerInvariant turns it into 'k': two servers would become one account.
        var values = Valid();
        foreach (var key in new[] { "\u212A", "k" })
        {
            values[$"Pop3Ingest:Accounts:{key}:Host"] = $"pop-{key.Length}.example.com";
            values[$"Pop3Ingest:Accounts:{key}:Password"] = "pw";
        }

        var (_, errors) = Validate(values);
        Assert.Contains("Pop3Ingest:Accounts:\u212A: account names may hold ASCII letters, digits, '-' and '_' only.", errors);
        Assert.Contains(errors, e => e.Contains("the name is the same as", StringComparison.Ordinal));
    }

    [Fact]
    public void An_account_name_with_a_trailing_line_break_is_refused()
    {
        var values = Valid();
        values["Pop3Ingest:Accounts:x\n:Host"] = "pop.example.com";
        values["Pop3Ingest:Accounts:x\n:Password"] = "pw";
        var (_, errors) = Validate(values);
        Assert.Contains(errors, e => e.EndsWith(": account names may hold ASCII letters, digits, '-' and '_' only.", StringComparison.Ordinal) && e.Contains("x\n", StringComparison.Ordinal));
    }

    [Fact]
    public void With_an_account_selected_no_other_account_is_bound_or_validated()
    {
        // `check --account main` and `once --account main` with thousands of accounts configured: the others are not
        // looked at (this one is broken twice over, and that does not concern a command about main).
        var values = Valid();
        values["Pop3Ingest:Accounts:other:Hots"] = "typo";
        values["Pop3Ingest:Accounts:other:Timeout"] = "60.00:00:00";
        var (options, errors) = Validate(values, onlyAccount: "MAIN");
        Assert.Equal(["main"], options.Accounts.Keys);
        Assert.Equal("shared-user", options.Accounts["main"].Username);
        Assert.Empty(errors);

        // Without the selection both problems are reported.
        (_, errors) = Validate(values);
        Assert.Contains("Pop3Ingest:Accounts:other:Hots: unknown key.", errors);
        Assert.Contains(errors, e => e.StartsWith("Pop3Ingest:Accounts:other:Timeout: 60.00:00:00 is out of range", StringComparison.Ordinal));
    }

    [Fact]
    public void Allowed_hosts_must_be_host_names()
    {
        var values = Valid();
        values["Pop3Ingest:Http:AllowedHosts"] = "status.example.com;*.corp.example;http://x/";
        var (_, errors) = Validate(values);
        Assert.Equal(["Pop3Ingest:Http:AllowedHosts: 'http://x/' is not a host name (IP literals and localhost are always allowed; '*.example.com' allows subdomains)."], errors);
    }

    private static Dictionary<string, string?> Clustered()
    {
        var values = Valid();
        values["Pop3Ingest:Ledger:Provider"] = "Postgres";
        values["Pop3Ingest:Ledger:ConnectionString"] = "Host=db;Database=pop3ingest;Username=pop3ingest";
        values["Pop3Ingest:Scheduler:Clustered"] = "true";
        return values;
    }

    [Fact]
    public void A_clustered_configuration_shares_the_ledger_database_by_default()
    {
        var (options, errors) = Validate(Clustered());
        Assert.Empty(errors);
        Assert.Equal("Host=db;Database=pop3ingest;Username=pop3ingest", OptionsSetup.SchedulerConnectionString(options));
        Assert.Contains("Application Name=\"Pop3Ingest scheduler\"", Pop3Ingest.Worker.Hosting.ClusteredStore.ConnectionString(options), StringComparison.Ordinal);
        Assert.NotEqual(Pop3Ingest.Worker.Hosting.ClusteredStore.CreateInstanceId(), Pop3Ingest.Worker.Hosting.ClusteredStore.CreateInstanceId());
    }

    [Theory]
    [InlineData("Pop3Ingest:Ledger:Provider", "Sqlite", "Pop3Ingest:Scheduler:Clustered requires Pop3Ingest:Ledger:Provider = Postgres")]
    [InlineData("Pop3Ingest:Ledger:ConnectionString", null, "Pop3Ingest:Ledger:ConnectionString (or ConnectionStringFile) is required")]
    [InlineData("Pop3Ingest:Ledger:ConnectionString", "Hots=db", "Pop3Ingest:Ledger:ConnectionString is not a PostgreSQL connection string")]
    [InlineData("Pop3Ingest:Ledger:ConnectionString", "Database=x", "Pop3Ingest:Ledger:ConnectionString has no Host")]
    [InlineData("Pop3Ingest:Ledger:ConnectionStringFile", "/nonexistent/ledger", "Pop3Ingest:Ledger: set ConnectionString or ConnectionStringFile, not both")]
    [InlineData("Pop3Ingest:Scheduler:ConnectionString", "Hots=db", "Pop3Ingest:Scheduler:ConnectionString is not a PostgreSQL connection string")]
    [InlineData("Pop3Ingest:Scheduler:ConnectionStringFile", "/nonexistent/scheduler", "Pop3Ingest:Scheduler:ConnectionStringFile: the file /nonexistent/scheduler does not exist")]
    [InlineData("Pop3Ingest:Scheduler:ClusterCheckinInterval", "00:00:00.5", "Pop3Ingest:Scheduler:ClusterCheckinInterval must be at least one second")]
    [InlineData("Pop3Ingest:Scheduler:Clustered", "false", "Pop3Ingest:Scheduler:ConnectionString is only used with Pop3Ingest:Scheduler:Clustered = true")]
    public void Every_cluster_rule_names_its_key(string key, string? value, string expected)
    {
        var values = Clustered();
        if (key == "Pop3Ingest:Scheduler:Clustered")
        {
            values["Pop3Ingest:Scheduler:ConnectionString"] = "Host=db";
        }

        values[key] = value;
        var (_, errors) = Validate(values);
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 10)]
    [InlineData(3, 20)]
    [InlineData(4, 40)]
    [InlineData(20, 60)]
    public void Backoff_grows_from_the_next_trigger_up_to_the_maximum(int failures, int expectedMinutes) =>
        Assert.Equal(TimeSpan.FromMinutes(expectedMinutes), AccountStatusRegistry.Backoff(failures, TimeSpan.FromMinutes(5), TimeSpan.FromHours(1)));

    [Fact]
    public void Every_option_class_the_unknown_key_check_walks_is_kept_for_the_native_build()
    {
        // The check reads option classes' properties by reflection; the native build keeps only what the
        // validator names in DynamicDependency attributes. A class added to the options and not named there would
        // make every one of its keys "unknown" in the shipped binary.
        var method = typeof(Pop3IngestOptionsValidator).GetMethod("UnknownKeys", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
        var kept = method.GetCustomAttributes(typeof(System.Diagnostics.CodeAnalysis.DynamicDependencyAttribute), false)
            .Cast<System.Diagnostics.CodeAnalysis.DynamicDependencyAttribute>()
            .Select(a => a.Type!)
            .ToHashSet();
        var reachable = new HashSet<Type>();
        void Walk(Type type)
        {
            if (!reachable.Add(type))
            {
                return;
            }

            foreach (var property in type.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
            {
                var propertyType = property.PropertyType;
                if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>))
                {
                    Walk(propertyType.GetGenericArguments()[1]);
                }
                else if (propertyType.IsClass && propertyType != typeof(string))
                {
                    Walk(propertyType);
                }
            }
        }

        Walk(typeof(Pop3IngestOptions));
        Assert.Empty(reachable.Except(kept).Select(t => t.Name));
        Assert.True(reachable.Count >= 7, string.Join(", ", reachable.Select(t => t.Name)));
    }
}
