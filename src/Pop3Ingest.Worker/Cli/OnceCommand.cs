using System.Collections.Concurrent;
using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Worker.Hosting;

namespace Pop3Ingest.Worker.Cli;

/// <summary><c>once [--account A]</c>: one ingestion pass per account, then exit (README.md, "Command line").</summary>
internal static class OnceCommand
{
    public static Command Create(ConfigOptions configOption)
    {
        var account = new Option<string?>("--account", "-a")
        {
            Description = "Run only this account (case-insensitive).",
        };
        var parallel = new Option<int>("--parallel")
        {
            Description = "How many accounts run at the same time.",
            DefaultValueFactory = _ => 4,
        };
        var command = new Command("once",
            "Run one ingestion pass for every enabled account (or one), then exit. " +
            "Exit code 0: every account ran (messages left by policy, oversize or quarantined are reported, not failures); " +
            "1: an account failed or was skipped (connection, authentication, IN-USE, store); 2: invalid configuration.")
        {
            account,
            parallel,
        };
        command.SetAction(async (parse, _) =>
        {
            using var inline = InlineSocketCompletions.Enable();
            using var signal = new ShutdownSignal();
            return await RunAsync(configOption.Source(parse), parse.GetValue(account), parse.GetValue(parallel), signal.Token).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(ConfigSource configPath, string? accountName, int parallel, CancellationToken stopping)
    {
        await using var context = WorkerContext.TryCreate(configPath, Console.Error, out var exitCode, onlyAccount: accountName);
        if (context is null)
        {
            return exitCode;
        }

        var accounts = context.Options.Accounts.Values.Where(a => a.Enabled).ToList();
        if (accountName is not null)
        {
            accounts = context.Options.Accounts.Values.Where(a => a.Name.Equals(accountName, StringComparison.OrdinalIgnoreCase)).ToList();
            if (accounts.Count == 0)
            {
                await Console.Error.WriteLineAsync($"Invalid configuration: --account: no account named '{accountName}' under Pop3Ingest:Accounts.").ConfigureAwait(false);
                return ExitCodes.InvalidConfiguration;
            }
        }
        else if (accounts.Count == 0)
        {
            await Console.Error.WriteLineAsync("Invalid configuration: Pop3Ingest:Accounts: no enabled account is configured.").ConfigureAwait(false);
            return ExitCodes.InvalidConfiguration;
        }

        IngestionRunner runner;
        AccountSettingsFactory factory;
        var time = context.Services.GetRequiredService<TimeProvider>();
        var logger = context.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Pop3Ingest.Worker.Once");
        try
        {
            // Building the runner builds the ledger and the store (a folder that cannot be made fails here).
            runner = context.Services.GetRequiredService<IngestionRunner>();
            factory = context.Services.GetRequiredService<AccountSettingsFactory>();
        }
        catch (Exception e) when (IsStartFailure(e))
        {
            await Console.Error.WriteLineAsync($"Cannot start: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }

        // The ledger and the store are prepared while each run connects, logs in and lists its mailbox (a run touches
        // neither before they are ready), so a short `once` does not pay for them one after the other.
        var prepared = PrepareAsync(context, stopping);
        var results = new RunResult[accounts.Count];
        using var progress = Console.IsOutputRedirected ? null : new ConsoleProgress();
        if (progress is not null)
        {
            runner.ProgressChanged += progress.Report;
        }

        var running = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        ShutdownWatchdog.Describe(() => string.Join(", ",
            (prepared.IsCompleted ? [] : new[] { "preparing the ledger and the store" }).Concat(running.Keys.Order(StringComparer.Ordinal).Select(a => $"account {a}")))
            is { Length: > 0 } what ? what : "the summary");
        await Parallel.ForEachAsync(
            Enumerable.Range(0, accounts.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallel) },
            async (i, _) =>
            {
                running[accounts[i].Name] = true;
                results[i] = await GuardedRun.RunAsync(runner, factory, accounts[i], time, logger, context.Options.ShutdownTimeout, prepared, stopping).ConfigureAwait(false);
                running.TryRemove(accounts[i].Name, out var _);
            })
            .ConfigureAwait(false);

        progress?.Finish();
        if (await ProblemOfAsync(prepared, stopping).ConfigureAwait(false) is { } problem)
        {
            await Console.Error.WriteLineAsync($"Cannot start: {problem}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }

        await Console.Out.WriteLineAsync(Summary(results)).ConfigureAwait(false);
        return results.Any(r => r.IsFailure) ? ExitCodes.Failure : ExitCodes.Success;
    }

    /// <summary>Migrates the ledger and prepares the store and the queue; faults with the reason they cannot be used.</summary>
    private static async Task PrepareAsync(WorkerContext context, CancellationToken stopping)
    {
        await Task.Yield(); // the runs start connecting at once
        await context.Services.GetRequiredService<ILedger>().MigrateAsync(stopping).ConfigureAwait(false);
        await context.Services.GetRequiredService<IMessageStore>().InitializeAsync(stopping).ConfigureAwait(false);
        if (context.Services.GetService<INotifier>() is { } notifier)
        {
            await notifier.InitializeAsync(stopping).ConfigureAwait(false);
        }
    }

    /// <summary>Why the ledger, the store or the queue could not be prepared, or null when they were.</summary>
    private static async Task<string?> ProblemOfAsync(Task prepared, CancellationToken stopping)
    {
        try
        {
            await prepared.ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (IsStartFailure(e))
        {
            return e.Message;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return "stopped before the ledger and the store were ready.";
        }
    }

    private static bool IsStartFailure(Exception e) => FailureClassifier.IsExpected(e);

    internal static string Summary(IEnumerable<RunResult> results)
    {
        var lines = new List<string[]> { new[] { "account", "outcome", "listed", "stored", "bytes", "deleted", "waiting", "failed", "quarantined", "oversize", "seconds", "error" } };
        foreach (var r in results)
        {
            lines.Add([
                r.Account, r.Outcome.ToString(), N(r.Listed), N(r.Stored + r.AlreadyStored), N(r.StoredBytes), N(r.Deleted), N(r.Waiting), N(r.Failed),
                N(r.Quarantined), N(r.Oversize), r.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture),
                r.Error is null ? string.Empty : $"{(r.FailureKind == FailureKind.None ? "Internal" : r.FailureKind.ToString())}: {r.Error}",
            ]);
        }

        var widths = Enumerable.Range(0, lines[0].Length).Select(c => lines.Max(l => l[c].Length)).ToArray();
        return string.Join(Environment.NewLine, lines.Select(l => string.Join("  ", l.Select((cell, c) => c == l.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd()));

        static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
