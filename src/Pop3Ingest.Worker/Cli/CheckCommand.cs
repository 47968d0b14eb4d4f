using System.CommandLine;
using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Mailbox;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Pop3;
using Pop3Ingest.Worker.Hosting;

namespace Pop3Ingest.Worker.Cli;

/// <summary><c>check [--account A]</c>: DNS, TCP, TLS, authentication and CAPA per account, and the stores; nothing is downloaded.</summary>
internal static class CheckCommand
{
    public static Command Create(ConfigOptions configOption)
    {
        var account = new Option<string?>("--account", "-a") { Description = "Check only this account (case-insensitive)." };
        var command = new Command("check",
            "Check every account (DNS, TCP, TLS, authentication, CAPA) and the ledger, store and queue, without downloading anything. " +
            "Exit code 0: all good; 1: something failed; 2: invalid configuration.")
        {
            account,
        };
        command.SetAction((parse, _) => RunAsync(configOption.Source(parse), parse.GetValue(account)));
        return command;
    }

    private static async Task<int> RunAsync(ConfigSource configPath, string? accountName)
    {
        await using var context = WorkerContext.TryCreate(configPath, Console.Error, out var exitCode, onlyAccount: accountName);
        if (context is null)
        {
            return exitCode;
        }

        var accounts = context.Options.Accounts.Values.Where(a => accountName is null || a.Name.Equals(accountName, StringComparison.OrdinalIgnoreCase)).ToList();
        if (accountName is not null && accounts.Count == 0)
        {
            await Console.Error.WriteLineAsync($"Invalid configuration: --account: no account named '{accountName}' under Pop3Ingest:Accounts.").ConfigureAwait(false);
            return ExitCodes.InvalidConfiguration;
        }

        var rows = new List<string[]> { new[] { "check", "result", "details" } };
        var failed = false;
        async Task Probe(string name, Func<CancellationToken, Task<string>> probe)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                rows.Add([name, "ok", await probe(timeout.Token).ConfigureAwait(false)]);
            }
#pragma warning disable CA1031 // A check reports every failure as a row; none may stop the others.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failed = true;
                rows.Add([name, "FAILED", e.Message]);
            }
        }

        var services = context.Services;
        // A check changes nothing: no ledger created or migrated, no folder, container or queue created, no temp folder
        // cleaned. Each row says what is there, proves it can be written (a probe rolled back or removed), and what the
        // first run will create or migrate.
        await Probe("ledger", async ct =>
            $"{context.Options.Ledger.Provider}: {await services.GetRequiredService<ILedger>().CheckAsync(ct).ConfigureAwait(false)}").ConfigureAwait(false);
        await Probe("store", async ct =>
        {
            var store = services.GetRequiredService<IMessageStore>();
            return $"{store.Kind}: {await store.CheckAsync(ct).ConfigureAwait(false)}";
        }).ConfigureAwait(false);
        if (services.GetService<INotifier>() is { } notifier)
        {
            await Probe("queue", async ct => $"{notifier.Kind}: {await notifier.CheckAsync(ct).ConfigureAwait(false)}").ConfigureAwait(false);
        }

        var factory = services.GetRequiredService<AccountSettingsFactory>();
        foreach (var account in accounts)
        {
            var settings = factory.Create(account);
            await Probe($"{account.Name}: dns", async ct =>
            {
                var addresses = IPAddress.TryParse(account.Host, out var ip) ? [ip] : await Dns.GetHostAddressesAsync(account.Host!, ct).ConfigureAwait(false);
                return string.Join(", ", addresses.Select(a => a.ToString()));
            }).ConfigureAwait(false);
            await Probe($"{account.Name}: tcp", async ct =>
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                var watch = Stopwatch.StartNew();
                await socket.ConnectAsync(account.Host!, settings.Client.EffectivePort, ct).ConfigureAwait(false);
                return $"{socket.RemoteEndPoint} in {watch.ElapsedMilliseconds} ms";
            }).ConfigureAwait(false);
            await Probe($"{account.Name}: {settings.Protocol.ToString().ToLowerInvariant()}", ct => SessionAsync(settings, ct)).ConfigureAwait(false);
        }

        await Console.Out.WriteLineAsync(Table(rows)).ConfigureAwait(false);
        return failed ? ExitCodes.Failure : ExitCodes.Success;
    }

    private static async Task<string> SessionAsync(AccountSettings settings, CancellationToken cancellationToken)
    {
        await using var session = MailboxSessions.Create(settings);
        await session.OpenAsync(cancellationToken).ConfigureAwait(false);
        var description = await session.DescribeAsync(cancellationToken).ConfigureAwait(false);
        await session.AbandonAsync(cancellationToken).ConfigureAwait(false);
        return description;
    }

    internal static string Table(List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => c == rows[0].Length - 1 ? 0 : r[c].Length)).ToArray();
        return string.Join(Environment.NewLine, rows.Select(r => string.Join("  ", r.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd()));
    }
}
