using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Worker.Diagnostics;
using Pop3Ingest.Worker.Hosting;
using Pop3Ingest.Worker.Jobs;
using Pop3Ingest.Worker.Options;
using Quartz;

namespace Pop3Ingest.Worker.Cli;

/// <summary>
/// <c>run</c> (the default verb): the scheduled service, with health, status and metrics over HTTP. SIGTERM stops
/// taking new work, lets running accounts finish or abandon their current message and QUIT, and exits 0.
/// </summary>
internal static class RunCommand
{
    public const string Description =
        "Run the scheduled service (the default): every account on its own schedule, configuration edits applied live, " +
        "health and metrics on Pop3Ingest:Http:Urls. Exit code 0 after SIGTERM/SIGINT and a clean stop; 2: invalid configuration.";

    public static Command Create(ConfigOptions configOption)
    {
        var command = new Command("run", Description);
        command.SetAction((parse, _) => RunAsync(configOption.Source(parse)));
        return command;
    }

    public static async Task<int> RunAsync(ConfigSource configPath)
    {
        Pop3IngestOptions options;
        IConfiguration configuration;
        await using (var context = WorkerContext.TryCreate(configPath, Console.Error, out var exitCode, watchConfiguration: true))
        {
            if (context is null)
            {
                return exitCode;
            }

            options = context.Options;
            configuration = context.Configuration;
            try
            {
                await context.Services.GetRequiredService<ILedger>().MigrateAsync(CancellationToken.None).ConfigureAwait(false);
                await context.Services.GetRequiredService<IMessageStore>().InitializeAsync(CancellationToken.None).ConfigureAwait(false);
                if (context.Services.GetService<INotifier>() is { } notifier)
                {
                    await notifier.InitializeAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (FailureClassifier.IsExpected(e))
            {
                await Console.Error.WriteLineAsync($"Cannot start: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
        }

        var urls = options.Http.Urls?.Trim();
        if (string.IsNullOrEmpty(urls))
        {
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = options.BaseDirectory });
            Configure(builder, configuration, options);
            using var host = builder.Build();
            ShutdownWatchdog.Describe(() => StillRunning(host.Services));
            await host.RunAsync().ConfigureAwait(false);
            return ExitCodes.Success;
        }

        var web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = options.BaseDirectory, Args = [] });
        Configure(web, configuration, options);

        // After Configure: it replaces the configuration sources, and the URLs live in the host's configuration.
        web.WebHost.UseUrls(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        await using var app = web.Build();
        ShutdownWatchdog.Describe(() => StillRunning(app.Services));
        StatusEndpoints.Map(app, options.Http);
        app.Lifetime.ApplicationStarted.Register(() =>
            WorkerLog.Started(app.Services.GetRequiredService<ILogger<LiveOptions>>(), options.Accounts.Count, urls));
        try
        {
            await app.RunAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM while the host was still starting: a clean stop too, not a crash with a stack trace.
        }

        return ExitCodes.Success;
    }

    /// <summary>For the watchdog's exit line: the accounts whose runs have not ended, or the host's own stop.</summary>
    private static string StillRunning(IServiceProvider services) =>
        services.GetRequiredService<AccountStatusRegistry>().Snapshot().Where(a => a.Running).Select(a => $"account {a.Account}").ToList() is { Count: > 0 } accounts
            ? string.Join(", ", accounts)
            : "the host's stop";

    private static void Configure(IHostApplicationBuilder builder, IConfiguration configuration, Pop3IngestOptions options)
    {
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.ClearProviders();
        builder.Logging.AddPop3IngestConsole(configuration);

        var services = builder.Services;
        services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout + TimeSpan.FromSeconds(5));
        services.AddPop3Ingest(configuration, options.BaseDirectory);
        services.AddPop3IngestSystemd();
        services.AddSingleton<LiveOptions>();
        services.AddSingleton<AccountStatusRegistry>();
        services.AddSingleton<IngestionMetrics>();
        services.AddSingleton(new HostConnectionLimiter(options.Scheduler.MaxConnectionsPerHost));
        services.AddSingleton<LedgerCounts>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerCounts>());
        services.AddQuartz(quartz =>
        {
            // Registered before the scheduler starts: an instance of a cluster may fire a job another instance stored
            // before its own accounts are scheduled, and the stored job type resolves only from this registration.
            quartz.AddJobType<IngestionJob>(ServiceLifetime.Transient);
            quartz.UseDefaultThreadPool(options.Scheduler.MaxConcurrentAccounts);
            if (options.Scheduler.Clustered)
            {
                ClusteredStore.Configure(quartz, options);
            }
            else
            {
                quartz.UseInMemoryStore();
            }
        });
        services.AddQuartzHostedService(quartz => quartz.WaitForJobsToComplete = true);
        services.AddSingleton<AccountScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<AccountScheduler>());
        services.AddPop3IngestTelemetry();
    }
}
