using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.IntegrationTests;

/// <summary>The mistakes operators make in the configuration, each answered with one line: where, what was given, what is accepted.</summary>
public sealed class ConfigurationErrorTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-config-errors-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Broken_json_names_the_file_the_line_and_the_position()
    {
        var path = Path.Combine(_folder, "appsettings.json");
        File.WriteAllText(path, "{\n  \"Pop3Ingest\": {\n    \"Accounts\": { \"a\": { \"Host\": \"x\" \"Port\": 110 } }\n  }\n}\n");

        var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(path));

        Assert.StartsWith($"{path}: line 3, position ", error.Message, StringComparison.Ordinal);
        Assert.Contains("the JSON is not valid", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Could not parse the JSON file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Layers_apply_in_order_file_environment_sibling_and_set()
    {
        var path = Path.Combine(_folder, "pop3.json");
        File.WriteAllText(path, """{ "Pop3Ingest": { "Layer": { "A": "file", "B": "file", "C": "file" } } }""");
        File.WriteAllText(ConfigurationLoader.SiblingOf(path, ConfigurationLoader.EnvironmentName()), """{ "Pop3Ingest": { "Layer": { "B": "sibling", "C": "sibling" } } }""");

        var (configuration, _) = ConfigurationLoader.Load(path, ["Pop3Ingest__Layer__C=set"]);

        Assert.Equal(("file", "sibling", "set"), (configuration["Pop3Ingest:Layer:A"], configuration["Pop3Ingest:Layer:B"], configuration["Pop3Ingest:Layer:C"]));
        Assert.Equal(Path.Combine(_folder, "pop3.Staging.json"), ConfigurationLoader.SiblingOf(path, "Staging"));
        Assert.Equal(Path.Combine(_folder, "appsettings.Development.json"), ConfigurationLoader.SiblingOf(Path.Combine(_folder, "appsettings.json"), "Development"));
        var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(path, ["Pop3Ingest:Layer:C"]));
        Assert.StartsWith("--set: 'Pop3Ingest:Layer:C' is not Key=Value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", WorkerProcess.Category)]
    public async Task Every_verb_reads_the_environment_sibling_environment_variables_and_set_and_checks_them_all_for_unknown_keys()
    {
        WorkerConfig.Write(_folder, 1, "layers", "pw");
        File.WriteAllText(Path.Combine(_folder, "appsettings.Staging.json"), """{ "Pop3Ingest": { "Defaults": { "Colour": "blue" } } }""");
        var staging = new Dictionary<string, string> { ["DOTNET_ENVIRONMENT"] = "Staging" };

        // The sibling of the environment named is read, and its unknown key is refused like the file's.
        var (code, output) = await WorkerProcess.RunAsync(_folder, TimeSpan.FromMinutes(1), staging, "ledger", "list", "--account", "layers");
        Assert.Equal(2, code);
        Assert.Contains("Pop3Ingest:Defaults:Colour: unknown key.", output, StringComparison.Ordinal);

        // Without that environment the sibling is not read; an unknown key in an environment variable is refused too.
        var (envCode, envOutput) = await WorkerProcess.RunAsync(_folder, TimeSpan.FromMinutes(1),
            new Dictionary<string, string> { ["Pop3Ingest__Storage__Colour"] = "red" }, "ledger", "list", "--account", "layers");
        Assert.Equal(2, envCode);
        Assert.Contains("Pop3Ingest:Storage:Colour: unknown key.", envOutput, StringComparison.Ordinal);

        // --set is the strongest layer, after any verb, and checked like the rest.
        var (setCode, setOutput) = await WorkerProcess.RunAsync(_folder, TimeSpan.FromMinutes(1), null,
            "ledger", "list", "--account", "layers", "--set", "Pop3Ingest:Ledger:ConnectionString=Data Source=other/ledger.db");
        Assert.True(setCode == 0, setOutput);
        Assert.True(File.Exists(Path.Combine(_folder, "other", "ledger.db")), setOutput);
        var (badSet, badSetOutput) = await WorkerProcess.RunAsync(_folder, TimeSpan.FromMinutes(1), null, "check", "--set", "Pop3Ingest:Http:Colour=1");
        Assert.Equal(2, badSet);
        Assert.Contains("Pop3Ingest:Http:Colour: unknown key.", badSetOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void A_crontab_schedule_is_answered_with_the_quartz_form_to_write_and_no_api_call()
    {
        Assert.False(Pop3Ingest.Worker.Jobs.ScheduleSpec.TryParseCron("*/5 * * * 1-5", out var problem));
        Assert.Contains("\"0 */5 * * * 1-5\"", problem, StringComparison.Ordinal);
        Assert.Contains("SUN-SAT", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("CronExpression", problem, StringComparison.Ordinal);
    }

    private (int ExitCode, string Error, Pop3Ingest.Worker.Cli.WorkerContext? Context) Create(string defaults)
    {
        var path = Path.Combine(_folder, "appsettings.json");
        File.WriteAllText(path, $$"""
            { "Pop3Ingest": {
                "Ledger": { "ConnectionString": "Data Source=data/ledger.db" },
                "Defaults": { {{defaults}} },
                "Accounts": { "a": { "Host": "127.0.0.1", "Port": 110, "Security": "None", "AllowInsecureAuth": true, "Username": "u", "Password": "p" } } } }
            """);
        var error = new StringWriter();
        var context = Pop3Ingest.Worker.Cli.WorkerContext.TryCreate(path, error, out var exitCode);
        return (exitCode, error.ToString(), context);
    }

    [Theory]
    [InlineData("5m", 300)]
    [InlineData("1h30m", 5400)]
    [InlineData("1d", 86400)]
    [InlineData("90s", 90)]
    [InlineData("00:05:00", 300)]
    public async Task Short_durations_are_accepted_wherever_a_duration_is(string interval, int seconds)
    {
        var (code, error, context) = Create($"\"Interval\": \"{interval}\", \"Timeout\": \"45s\"");
        Assert.True(context is not null, error);
        await using (context)
        {
            Assert.Equal(0, code);
            var account = context.Options.Accounts["a"];
            Assert.Equal((TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(45)), (account.Interval, account.Timeout));
        }
    }

    [Theory]
    [InlineData("\"Interval\": \"5 minutes\"", "Pop3Ingest:Defaults:Interval: '5 minutes' is not a duration such as 30s, 5m, 1h, 1d, 1h30m or 500ms, or hh:mm:ss (00:05:00).")]
    [InlineData("\"Security\": \"Tsl\"", "Pop3Ingest:Defaults:Security: 'Tsl' is not one of Tls, StartTls, StartTlsIfAvailable, None.")]
    [InlineData("\"DeletePolicy\": \"Always\"", "Pop3Ingest:Defaults:DeletePolicy: 'Always' is not one of AfterStore, Never, AfterDays.")]
    public void A_value_that_does_not_convert_names_the_key_what_was_given_and_what_is_accepted(string defaults, string expected)
    {
        var (code, error, context) = Create(defaults);
        Assert.Null(context);
        Assert.Equal(2, code);
        Assert.Equal($"Invalid configuration: {expected}", error.Trim());
    }

    [Fact]
    public void Every_duration_option_takes_short_durations()
    {
        var durations = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var seen = new HashSet<Type>();
        void Walk(Type type)
        {
            if (!seen.Add(type))
            {
                return;
            }

            foreach (var property in type.GetProperties())
            {
                var target = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                if (target == typeof(TimeSpan))
                {
                    durations.Add(property.Name);
                }
                else if (target.Namespace == typeof(Pop3IngestOptions).Namespace && target.IsClass)
                {
                    Walk(target);
                }
                else if (target.IsGenericType && target.GetGenericArguments().Last() is { IsClass: true } element && element.Namespace == typeof(Pop3IngestOptions).Namespace)
                {
                    Walk(element);
                }
            }
        }

        Walk(typeof(Pop3IngestOptions));
        Assert.Equal(durations.Order(StringComparer.OrdinalIgnoreCase), ShortDurations.Keys.Order(StringComparer.OrdinalIgnoreCase));
    }
}
