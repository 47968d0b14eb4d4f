using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Ledger.Sqlite;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Ingestion.Mailbox;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Benchmarks.Other;

/// <summary>
/// A kept mailbox of 100,000 messages, all already stored, nothing new: the worker's own share of a run, from the
/// UIDL/LIST listing received to the plan ready (ledger read + <see cref="MailboxPlan.Create"/>), in-process against
/// the real SQLite ledger and the real listing from Dovecot. The end-to-end `once` of that run is context.
/// </summary>
internal sealed class ReconcileScenario : IScenario
{
    private const double TargetSeconds = 0.5;
    private const int Repetitions = 7;
    private const string User = "kept";
    private const string Password = "kept-pw";

    public string Name => "reconcile";

    public string Description => "100,000 kept messages, nothing new: ledger read + plan (target < 0.5 s), and the `once` around it";

    public int Order => 30;

    public async Task RunAsync(BenchOptions options, Report report, CancellationToken cancellationToken)
    {
        report.Line($"Before: {Load.Now()}.");
        var count = int.TryParse(Environment.GetEnvironmentVariable("BENCH_RECONCILE_MESSAGES"), CultureInfo.InvariantCulture, out var n) ? n : 100_000;
        var program = await WorkerHarness.PublishAsync(options, cancellationToken);
        await using var dovecot = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [(User, Password)] }, cancellationToken);

        var watch = Stopwatch.StartNew();
        await WriteMaildirAsync(dovecot.MaildirOf(User), count, cancellationToken);
        var writeSeconds = watch.Elapsed.TotalSeconds;

        // Dovecot builds its index and uidlist on the first access: that is the warm-up, not the measurement.
        watch.Restart();
        var (uidls, sizes) = await ListAsync(dovecot.Port, cancellationToken);
        var firstListingSeconds = watch.Elapsed.TotalSeconds;
        if (uidls.Count != count || sizes.Count != count)
        {
            throw new InvalidOperationException($"Dovecot listed {uidls.Count} UIDLs and {sizes.Count} sizes instead of {count}.");
        }

        // The ledger as a successful keep-mode `once` (no queue) leaves it: every row Stored with its blob name.
        var runDirectory = Path.Combine(options.WorkDirectory, "reconcile");
        WorkerHarness.ResetDirectory(runDirectory);
        var ledgerPath = Path.Combine(runDirectory, "data", "ledger.db");
        var connectionString = $"Data Source={ledgerPath}";
        var account = Loopback.Account(User, dovecot.Port, User, Password);
        watch.Restart();
        await PopulateLedgerAsync(new SqliteLedger(connectionString), account.Name, uidls, sizes, cancellationToken);
        var populateSeconds = watch.Elapsed.TotalSeconds;

        // The listing as a run receives it (index warm): the server's share, excluded from the figure.
        var listingSeconds = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            watch.Restart();
            (uidls, sizes) = await ListAsync(dovecot.Port, cancellationToken);
            listingSeconds.Add(watch.Elapsed.TotalSeconds);
        }

        var readMs = new List<double>();
        var planMs = new List<double>();
        for (var rep = 0; rep < Repetitions; rep++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ledger = new SqliteLedger(connectionString);
            watch.Restart();
            var rows = await ledger.GetAccountAsync(account.Name, cancellationToken);
            var read = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            var plan = MailboxPlan.Create(account, uidls, sizes, rows, hasNotifier: false, DateTimeOffset.UtcNow);
            var planned = watch.Elapsed.TotalMilliseconds;
            if (rows.Count != count || plan.Fetch.Count != 0 || plan.Waiting != count || plan.Vanished.Count != 0 || plan.Duplicates.Count != 0)
            {
                throw new InvalidOperationException(
                    $"Unexpected plan: {rows.Count} rows, {plan.Fetch.Count} to fetch, {plan.Waiting} waiting, {plan.Vanished.Count} vanished, {plan.Duplicates.Count} duplicates.");
            }

            readMs.Add(read);
            planMs.Add(planned);
        }

        // The floor under the ledger read: the same SELECT walked with a plain SqliteDataReader, no mapping.
        var rawMs = new List<double>();
        for (var rep = 0; rep < 5; rep++)
        {
            watch.Restart();
            var walked = await RawReadAsync(connectionString, account.Name, LedgerRecord.Columns, cancellationToken);
            rawMs.Add(watch.Elapsed.TotalMilliseconds);
            if (walked != count)
            {
                throw new InvalidOperationException($"The raw read saw {walked} rows instead of {count}.");
            }
        }

        // What the plan reads of a row (uidl, state, blob name, first seen, stored at): how much a narrower SELECT would save.
        var narrowMs = new List<double>();
        for (var rep = 0; rep < 5; rep++)
        {
            watch.Restart();
            await RawReadAsync(connectionString, account.Name, NarrowColumns, cancellationToken);
            narrowMs.Add(watch.Elapsed.TotalMilliseconds);
        }

        var totals = readMs.Zip(planMs, (r, p) => r + p).ToList();
        var steady = totals.Skip(1).ToList();
        var median = Stats.Median(steady) / 1000;

        // The same no-new-mail run end to end: the worker process against the same ledger and mailbox.
        var accounts = new JsonObject { [User] = WorkerHarness.Account(dovecot.Port, User, Password) };
        var config = WorkerHarness.WriteConfig(runDirectory, accounts);
        var once = new List<ProcessMeasurement>();
        for (var run = 0; run < options.Runs; run++)
        {
            var measured = await WorkerHarness.OnceAsync(program, config, runDirectory, cancellationToken);
            var line = measured.Output.Split('\n').FirstOrDefault(l => l.StartsWith(User + " ", StringComparison.Ordinal)) ?? string.Empty;
            var cells = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (cells.Length < 4 || cells[1] != "Succeeded" || cells[2] != count.ToString(CultureInfo.InvariantCulture) || cells[3] != "0")
            {
                throw new InvalidOperationException($"`once` did not list {count} and store 0:{Environment.NewLine}{WorkerHarness.Tail(measured.Output, 10)}");
            }

            once.Add(measured);
        }

        report.Line($"Mailbox: {Stats.N(count)} messages of about 300 bytes written straight into Maildir/cur ({Stats.F(writeSeconds, "0.0")} s); " +
                    $"Dovecot's first listing (index build) {Stats.F(firstListingSeconds)} s; ledger populated in-process as a keep-mode run leaves it " +
                    $"(every row Stored, blob name from BlobNaming; {Stats.F(populateSeconds, "0.0")} s, file {Stats.F(new FileInfo(ledgerPath).Length / 1048576.0, "0.0")} MiB).");
        report.Table(
            ["repetition", "ledger read ms", "plan ms", "total ms"],
            Enumerable.Range(0, Repetitions).Select(i => (IReadOnlyList<string>)
                [i == 0 ? "1 (cold)" : (i + 1).ToString(CultureInfo.InvariantCulture), Stats.F(readMs[i], "0"), Stats.F(planMs[i], "0"), Stats.F(totals[i], "0")]));
        report.Table(
            ["figure", "value", "target", "result", "how measured"],
            [
                ["reconcile, listing to plan (median)", $"{Stats.F(median, "0.000")} s", $"< {TargetSeconds} s", Stats.Met(median < TargetSeconds),
                    $"median of repetitions 2-{Repetitions}: `SqliteLedger.GetAccountAsync` (new ledger object, pooled connection) + `MailboxPlan.Create`, in-process, real ledger file, real listing; median read {Stats.F(Stats.Median(readMs.Skip(1).ToList()), "0")} ms + plan {Stats.F(Stats.Median(planMs.Skip(1).ToList()), "0")} ms"],
                ["reconcile, first (cold) repetition", $"{Stats.F(totals[0] / 1000, "0.000")} s", $"< {TargetSeconds} s", Stats.Met(totals[0] / 1000 < TargetSeconds),
                    $"first call in this process (JIT of the query and plan paths; SQLite file in the page cache): read {Stats.F(readMs[0], "0")} ms + plan {Stats.F(planMs[0], "0")} ms"],
                ["of which SQLite itself (floor)", $"{Stats.F(Stats.Median(rawMs), "0")} ms", "(context)", "-",
                    "the same `SELECT ... WHERE account = @account` walked with a bare SqliteDataReader (every column read, nothing mapped), median of 5; the rest of the ledger read is building the rows (`LedgerRecord.Read`)"],
                ["a SELECT of the plan's columns only (floor)", $"{Stats.F(Stats.Median(narrowMs), "0")} ms", "(context)", "-",
                    $"`SELECT {NarrowColumns}` walked the same way, median of 5: what a narrower reconcile query would cost at least"],
                ["server share: connect + login + UIDL + LIST", $"{Stats.F(Stats.Median(listingSeconds), "0.000")} s", "(excluded)", "-",
                    $"product Pop3Client `GetUidlsAndSizesAsync` (pipelined), index warm; median of 3"],
                ["`once`, no new mail, end to end (median)", $"{Stats.F(Stats.Median(once.Select(o => o.WallSeconds).ToList()))} s", "(context)", "-",
                    $"worker process, {options.Runs} run(s): {Stats.List(once.Select(o => o.WallSeconds))} s wall; CPU {Stats.List(once.Select(o => o.CpuSeconds))} s; peak RSS {Stats.List(once.Select(o => o.PeakRssMiB), "0")} MiB"],
            ]);
        report.Summary(
            $"reconcile a kept mailbox of {Stats.N(count)} messages, nothing new (listing received to plan ready)",
            $"{Stats.F(median, "0.00")} s median; `once` end to end {Stats.F(Stats.Median(once.Select(o => o.WallSeconds).ToList()))} s",
            $"< {TargetSeconds} s: {Stats.Met(median < TargetSeconds)}");
    }

    private const string NarrowColumns = "uidl, state, blob_name, first_seen, stored_at";

    private static async Task<int> RawReadAsync(string connectionString, string account, string columns, CancellationToken cancellationToken)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {columns} FROM messages WHERE account = @account;";
        command.Parameters.AddWithValue("@account", account);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = 0;
        long sink = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                if (!reader.IsDBNull(i))
                {
                    sink += reader.GetFieldType(i) == typeof(string) ? reader.GetString(i).Length : reader.GetInt64(i);
                }
            }

            rows++;
        }

        GC.KeepAlive(sink);
        return rows;
    }

    /// <summary>The listing as the POP3 mailbox adapter hands it to the plan (the conversion to the port's types included).</summary>
    private static async Task<(IReadOnlyList<MailboxId> Uidls, IReadOnlyList<MailboxSize> Sizes)> ListAsync(int port, CancellationToken cancellationToken)
    {
        await using var client = await Loopback.ConnectAsync(port, User, Password, cancellationToken);
        var (uidls, sizes) = await client.GetUidlsAndSizesAsync(cancellationToken);
        await client.QuitAsync(cancellationToken);
        return ([.. uidls.Select(u => new MailboxId(u.Number, u.Uid))], [.. sizes.Select(s => new MailboxSize(s.Number, s.Size))]);
    }

    /// <summary>Tiny messages straight into cur, named as Dovecot names them (S= and W= spare it reading each file for LIST).</summary>
    private static async Task WriteMaildirAsync(string maildir, int count, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The benchmark's Dovecot runs on Linux only.");
        }

        foreach (var sub in new[] { "cur", "new", "tmp" })
        {
            Directory.CreateDirectory(Path.Combine(maildir, sub), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var cur = Path.Combine(maildir, "cur");
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        await Parallel.ForEachAsync(Enumerable.Range(1, count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, (i, _) =>
        {
            var body = Encoding.ASCII.GetBytes(FormattableString.Invariant(
                $"From: sender{i % 97}@example.org\r\nTo: kept@example.net\r\nSubject: kept {i}\r\nDate: Mon, 23 Nov 2026 08:00:00 +0000\r\nMessage-ID: <kept-{i}@example.org>\r\n\r\nKept message {i}.\r\n"));
            var name = FormattableString.Invariant($"{1_700_000_000 + (i / 1000)}.M{i % 1000 * 1000:D6}P4242Q{i}.bench,S={body.Length},W={body.Length}:2,S");
            using (var stream = new FileStream(Path.Combine(cur, name), create))
            {
                stream.Write(body);
            }

            return ValueTask.CompletedTask;
        });
        await Loopback.ChownToMailUserAsync(maildir, cancellationToken);
    }

    private static async Task PopulateLedgerAsync(
        SqliteLedger ledger, string account, IReadOnlyList<MailboxId> uidls, IReadOnlyList<MailboxSize> sizes, CancellationToken cancellationToken)
    {
        await ledger.MigrateAsync(cancellationToken);
        var sizeOf = sizes.ToDictionary(s => s.Number, s => s.Size);
        var at = DateTimeOffset.UtcNow.AddMinutes(-10);
        var rows = uidls.Select(u => new LedgerRow
        {
            Account = account,
            Uidl = u.Id,
            BlobName = BlobNaming.BlobNameOf(account, u.Id, at),
            State = LedgerState.Stored,
            FirstSeen = at,
            Size = sizeOf[u.Number],
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.Latin1.GetBytes(u.Id))),
            StoredAt = at,
            UpdatedAt = at,
        }).ToList();
        await ledger.InsertAsync(rows, cancellationToken);
    }
}
