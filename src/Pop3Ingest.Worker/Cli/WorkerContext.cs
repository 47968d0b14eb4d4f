using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pop3Ingest.Worker.Hosting;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Cli;

/// <summary>
/// What every verb starts from: the configuration loaded and validated, and the services built. A configuration
/// problem becomes one line on standard error and exit code 2, never a stack trace.
/// </summary>
internal sealed class WorkerContext : IAsyncDisposable
{
    private WorkerContext(ServiceProvider services, Pop3IngestOptions options, IConfiguration configuration)
    {
        Services = services;
        Options = options;
        Configuration = configuration;
    }

    public ServiceProvider Services { get; }

    public Pop3IngestOptions Options { get; }

    public IConfiguration Configuration { get; }

    // onlyAccount: a verb's --account; only that account is bound and validated.
    public static WorkerContext? TryCreate(ConfigSource configPath, TextWriter error, out int exitCode, bool watchConfiguration = false, string? onlyAccount = null)
    {
        exitCode = ExitCodes.Success;
        IConfigurationRoot configuration;
        string baseDirectory;
        try
        {
            (configuration, baseDirectory) = ConfigurationLoader.Load(configPath.Path, configPath.Overrides, watchConfiguration);
        }
        catch (ConfigurationException e)
        {
            error.WriteLine($"Invalid configuration: {e.Message}");
            exitCode = ExitCodes.InvalidConfiguration;
            return null;
        }

        var services = new ServiceCollection();
        try
        {
            ConsoleLogging.FormatterOf(configuration);
        }
        catch (ConfigurationException e)
        {
            error.WriteLine($"Invalid configuration: {e.Message}");
            exitCode = ExitCodes.InvalidConfiguration;
            return null;
        }

        services.AddLogging(logging => logging.AddPop3IngestConsole(configuration));
        services.AddPop3Ingest(configuration, baseDirectory, onlyAccount);
        var provider = services.BuildServiceProvider();
        try
        {
            var options = provider.GetRequiredService<IOptions<Pop3IngestOptions>>().Value;
            ShutdownWatchdog.SetShutdownTimeout(options.ShutdownTimeout);
            return new WorkerContext(provider, options, configuration);
        }
        catch (OptionsValidationException e)
        {
            error.WriteLine($"Invalid configuration: {string.Join(" ", e.Failures)}");
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key whose value does not convert (a port that is not a number, an unknown enum).
            error.WriteLine($"Invalid configuration: {BinderErrors.Explain(e.Message)}");
        }

        provider.Dispose();
        exitCode = ExitCodes.InvalidConfiguration;
        return null;
    }

    public ValueTask DisposeAsync() => Services.DisposeAsync();
}
