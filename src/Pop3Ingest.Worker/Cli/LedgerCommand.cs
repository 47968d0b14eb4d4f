using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Mailbox;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Pop3;
using Pop3Ingest.Worker.Hosting;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Cli;

/// <summary><c>ledger seed|rebuild|list|retry|export|import</c>: operate the ledger.</summary>
internal static class LedgerCommand
{
    public static Command Create(ConfigOptions configOption)
    {
        var ledger = new Command("ledger", "Operate the ledger. Exit code 0: done; 1: failed; 2: invalid configuration or usage.");
        ledger.Subcommands.Add(Seed(configOption));
        ledger.Subcommands.Add(Rebuild(configOption));
        ledger.Subcommands.Add(List(configOption));
        ledger.Subcommands.Add(Retry(configOption));
        ledger.Subcommands.Add(Export(configOption));
        ledger.Subcommands.Add(Import(configOption));
        return ledger;
    }

    private static Option<string> AccountOption() => new("--account", "-a") { Description = "The account (case-insensitive).", Required = true };

    private static Command Seed(ConfigOptions configOption)
    {
        var account = AccountOption();
        var command = new Command("seed",
            "Adopt an existing mailbox: mark every message now on the server as Seeded, so that it is never downloaded nor deleted by the worker; " +
            "only mail that arrives later is ingested.")
        {
            account,
        };
        command.SetAction((parse, _) => WithServerUidls(configOption.Source(parse), parse.GetValue(account)!, async (_, options, ledger, uidls, token) =>
        {
            var known = (await ledger.GetAccountAsync(options.Name, token).ConfigureAwait(false)).Select(r => r.Uidl).ToHashSet(StringComparer.Ordinal);
            var now = DateTimeOffset.UtcNow;
            var rows = uidls.Select(u => u.Id).Distinct(StringComparer.Ordinal).Where(u => !known.Contains(u)).Select(u => new LedgerRow
            {
                Account = options.Name, Uidl = u, BlobName = BlobNaming.BlobNameOf(options.Name, u, now), State = LedgerState.Seeded,
                FirstSeen = now, UpdatedAt = now,
            }).ToList();
            var progress = !Console.IsOutputRedirected;
            for (var i = 0; i < rows.Count; i += 1000)
            {
                await ledger.InsertAsync(rows.Skip(i).Take(1000).ToList(), token).ConfigureAwait(false);
                if (progress)
                {
                    Console.Write($"\rseeding {options.Name}: {Math.Min(i + 1000, rows.Count)}/{rows.Count}");
                }
            }

            if (progress && rows.Count > 0)
            {
                Console.WriteLine();
            }

            Console.WriteLine($"{options.Name}: {rows.Count} messages seeded, {uidls.Count - rows.Count} already known.");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Rebuild(ConfigOptions configOption)
    {
        var account = AccountOption();
        var command = new Command("rebuild",
            "Recover a lost ledger without downloading: match the UIDLs on the server with the blobs in the store; each match becomes a Stored row " +
            "(announced again by the next run when a queue is configured, with the same event id). Stop the worker first.")
        {
            account,
        };
        command.SetAction((parse, _) => WithServerUidls(configOption.Source(parse), parse.GetValue(account)!, async (context, options, ledger, uidls, token) =>
        {
            var store = context.Services.GetRequiredService<IMessageStore>();
            var result = await LedgerRebuild.RunAsync(ledger, store, options.Name, [.. uidls.Select(u => u.Id)], DateTimeOffset.UtcNow, token).ConfigureAwait(false);
            foreach (var uidl in result.Missing.Take(100))
            {
                Console.WriteLine($"{options.Name}: {LogText.Printable(uidl)}: not in the store: will be downloaded by the next run.");
            }

            if (result.Missing.Count > 100)
            {
                Console.WriteLine($"{options.Name}: {result.Missing.Count - 100} more not in the store.");
            }

            Console.WriteLine($"{options.Name}: {result.Rebuilt} rows rebuilt (Stored), {result.Missing.Count} not in the store, " +
                              $"{result.AlreadyKnown} already known, {result.Duplicates} duplicate UIDLs skipped.");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command List(ConfigOptions configOption)
    {
        var account = AccountOption();
        var state = new Option<LedgerState?>("--state", "-s") { Description = "Only rows in this state." };
        var format = new Option<string>("--format") { Description = "table, tsv or json (one object per line).", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "tsv", "json");
        var command = new Command("list", "List an account's ledger rows.") { account, state, format };
        command.SetAction((parse, _) => WithContext(configOption.Source(parse), async context =>
        {
            var options = Find(context, parse.GetValue(account)!);
            if (options is null)
            {
                return ExitCodes.InvalidConfiguration;
            }

            var ledger = context.Services.GetRequiredService<ILedger>();
            await ledger.MigrateAsync(CancellationToken.None).ConfigureAwait(false);
            var rows = new List<string[]> { new[] { "state", "uidl", "blob", "first seen", "size", "attempts", "last error" } };
            await foreach (var row in ledger.ReadAllAsync(options.Name, parse.GetValue(state), CancellationToken.None).ConfigureAwait(false))
            {
                if (parse.GetValue(format) == "json")
                {
                    Console.WriteLine(JsonSerializer.Serialize(row, LedgerJsonContext.Default.LedgerRow));
                    continue;
                }

                rows.Add([row.State.ToString(), LogText.Printable(row.Uidl), row.BlobName, row.FirstSeen.ToString("u", CultureInfo.InvariantCulture),
                    row.Size?.ToString(CultureInfo.InvariantCulture) ?? "", row.Attempts.ToString(CultureInfo.InvariantCulture), row.LastError ?? ""]);
            }

            if (parse.GetValue(format) == "tsv")
            {
                foreach (var row in rows)
                {
                    Console.WriteLine(string.Join('\t', row.Select(c => c.Replace('\t', ' '))));
                }
            }
            else if (parse.GetValue(format) == "table")
            {
                Console.WriteLine(CheckCommand.Table(rows));
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Retry(ConfigOptions configOption)
    {
        var account = AccountOption();
        var uidl = new Option<string>("--uidl", "-u") { Description = "The UIDL of the quarantined message.", Required = true };
        var command = new Command("retry", "Release a quarantined message: it is downloaded again on the next run.") { account, uidl };
        command.SetAction((parse, _) => WithContext(configOption.Source(parse), async context =>
        {
            var options = Find(context, parse.GetValue(account)!);
            if (options is null)
            {
                return ExitCodes.InvalidConfiguration;
            }

            var ledger = context.Services.GetRequiredService<ILedger>();
            await ledger.MigrateAsync(CancellationToken.None).ConfigureAwait(false);
            if (await ledger.ReleaseAsync(options.Name, parse.GetValue(uidl)!, DateTimeOffset.UtcNow, CancellationToken.None).ConfigureAwait(false))
            {
                Console.WriteLine($"{options.Name}: {parse.GetValue(uidl)} released; the next run downloads it again.");
                return ExitCodes.Success;
            }

            await Console.Error.WriteLineAsync($"{options.Name}: no quarantined message with UIDL {parse.GetValue(uidl)}.").ConfigureAwait(false);
            return ExitCodes.Failure;
        }));
        return command;
    }

    private static Command Export(ConfigOptions configOption)
    {
        var file = new Option<FileInfo>("--file", "-f") { Description = "Where to write the ledger (JSON Lines).", Required = true };
        var account = new Option<string?>("--account", "-a") { Description = "Only this account." };
        var command = new Command("export", "Write the ledger to a portable file (to move it to another provider).") { file, account };
        command.SetAction((parse, _) => WithContext(configOption.Source(parse), async context =>
        {
            var ledger = context.Services.GetRequiredService<ILedger>();
            await ledger.MigrateAsync(CancellationToken.None).ConfigureAwait(false);
            var count = await LedgerTransfer.ExportAsync(ledger, parse.GetValue(file)!.FullName, parse.GetValue(account)?.ToLowerInvariant(), CancellationToken.None).ConfigureAwait(false);
            Console.WriteLine($"{count} rows exported to {parse.GetValue(file)!.FullName}.");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Import(ConfigOptions configOption)
    {
        var file = new Option<FileInfo>("--file", "-f") { Description = "A file written by 'ledger export'.", Required = true };
        var command = new Command("import",
            "Read a file written by 'ledger export' into this ledger. Rows keep their blob names and states; rows already present are left alone.")
        {
            file,
        };
        command.SetAction((parse, _) => WithContext(configOption.Source(parse), async context =>
        {
            var ledger = context.Services.GetRequiredService<ILedger>();
            await ledger.MigrateAsync(CancellationToken.None).ConfigureAwait(false);
            var count = await LedgerTransfer.ImportAsync(ledger, parse.GetValue(file)!.FullName, CancellationToken.None).ConfigureAwait(false);
            Console.WriteLine($"{count} rows imported from {parse.GetValue(file)!.FullName}.");
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>
    /// For the verbs that reconcile the ledger with the server: the account, the migrated ledger, and the UIDLs on the
    /// server now (connect, authenticate, UIDL, QUIT: nothing downloaded, nothing deleted).
    /// </summary>
    private static Task<int> WithServerUidls(ConfigSource configPath, string accountName,
        Func<WorkerContext, AccountOptions, ILedger, IReadOnlyList<MailboxId>, CancellationToken, Task<int>> action) => WithContext(configPath, async context =>
    {
        var options = Find(context, accountName);
        if (options is null)
        {
            return ExitCodes.InvalidConfiguration;
        }

        using var signal = new ShutdownSignal();
        var ledger = context.Services.GetRequiredService<ILedger>();
        await ledger.MigrateAsync(signal.Token).ConfigureAwait(false);
        var settings = context.Services.GetRequiredService<AccountSettingsFactory>().Create(options);
        if (settings.Protocol == MailboxProtocol.Pop1)
        {
            // Not even a connection: listing a POP1 mailbox opens its transaction.
            throw new MailboxException(MailboxFailure.Server,
                $"Account {settings.Name} speaks POP1 (RFC 918), which has no UIDLs: there are none to reconcile the ledger with (its messages are known by content).", isTransient: false);
        }

        await using var session = MailboxSessions.Create(settings);
        await session.OpenAsync(signal.Token).ConfigureAwait(false);
        var listing = await session.ListAsync(signal.Token).ConfigureAwait(false);
        await session.AbandonAsync(signal.Token).ConfigureAwait(false);
        if (listing.Ids is null)
        {
            throw new MailboxException(MailboxFailure.Server,
                $"The server does not support UIDL ({listing.NoIdsReason}): there are no UIDLs to reconcile the ledger with.", isTransient: false);
        }

        return await action(context, options, ledger, listing.Ids, signal.Token).ConfigureAwait(false);
    });

    private static async Task<int> WithContext(ConfigSource configPath, Func<WorkerContext, Task<int>> action)
    {
        await using var context = WorkerContext.TryCreate(configPath, Console.Error, out var exitCode);
        if (context is null)
        {
            return exitCode;
        }

        try
        {
            return await action(context).ConfigureAwait(false);
        }
        catch (Exception e) when (FailureClassifier.IsExpected(e) || e is LedgerFormatException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"Failed: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }

    private static AccountOptions? Find(WorkerContext context, string name)
    {
        if (context.Options.Accounts.TryGetValue(name, out var account))
        {
            return account;
        }

        Console.Error.WriteLine($"Invalid usage: --account: no account named '{name}' under Pop3Ingest:Accounts.");
        return null;
    }
}
