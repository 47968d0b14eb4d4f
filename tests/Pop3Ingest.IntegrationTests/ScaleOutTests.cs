using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Pop3Ingest.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// Three worker processes share thirty Dovecot accounts through Quartz's clustered store and the ledger on one real
/// PostgreSQL; one is SIGKILLed in the middle of a run. Every message is stored exactly once, every instance did
/// some of the work, no account ran on two instances at once (from the run logs), and the dead instance's accounts
/// are finished by the others.
/// </summary>
[Trait("Category", WorkerProcess.Category)]
[Collection(SerialCollection.Name)]
public sealed class ScaleOutTests(ITestOutputHelper output) : IDisposable
{
    private const int Accounts = 30;
    private const int MessagesPerAccount = 100;
    private const int Instances = 3;
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-scale-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Three_instances_share_thirty_accounts_and_survive_a_sigkill()
    {
        var users = Enumerable.Range(1, Accounts).Select(i => (Name: $"scale{i:D2}", Password: "pw")).ToList();
        await using var dovecot = await DovecotServer.StartAsync(new DovecotServerOptions { Users = users, EnableApop = false });
        await using var postgres = await PostgresServer.StartAsync();
        var connectionString = await postgres.CreateDatabaseAsync("scale");

        var expected = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var (user, _) in users)
        {
            for (var i = 0; i < MessagesPerAccount; i++, index++)
            {
                var message = TestMessages.Create(index, 1_500 + (index * 379 % 4_000), seed: 11);
                dovecot.Deliver(user, message);
                Assert.True(expected.Add(StoreInspector.Hash(TestMessages.ToCrlf(message))));
            }
        }

        var storeRoot = Path.Combine(_folder, "store");
        var workers = new List<WorkerProcess>();
        var started = DateTime.UtcNow;
        try
        {
            for (var n = 0; n < Instances; n++)
            {
                var folder = Directory.CreateDirectory(Path.Combine(_folder, $"instance{n}")).FullName;
                WriteConfig(folder, dovecot.Port, users, connectionString, storeRoot);
                workers.Add(WorkerProcess.Start(folder, null, "run"));
            }

            var peakConnections = new Dictionary<string, int>(StringComparer.Ordinal);
            using var sampling = new CancellationTokenSource();
            var sampler = SampleConnectionsAsync(postgres.AdminConnectionString, peakConnections, sampling.Token);

            // Kill the last instance once it has finished a few runs and is in the middle of another.
            var victim = workers[^1];
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (!(Count(victim, "[3002]") >= 3 && Count(victim, "[3001]") > Count(victim, "[3002]")))
            {
                Assert.False(victim.HasExited, victim.AllOutput);
                Assert.True(DateTime.UtcNow < deadline, "the third instance did not run three accounts:\n" + victim.AllOutput);
                await Task.Delay(2);
            }

            var (peakRss, _, cpu) = Measure(victim.Id);
            var inFlight = OpenRuns(victim);
            victim.Kill();
            var killedAt = DateTime.UtcNow;
            sampling.Cancel();
            await sampler;
            output.WriteLine($"killed instance 3 at {killedAt:HH:mm:ss.fff} in the middle of {string.Join(", ", inFlight)}");

            // The two survivors finish everything, the dead instance's accounts included.
            deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (users.Any(u => dovecot.MessageCount(u.Name) > 0) || await DeletedRowsAsync(connectionString) < expected.Count)
            {
                Assert.True(DateTime.UtcNow < deadline,
                    $"not finished: {users.Sum(u => dovecot.MessageCount(u.Name))} messages on the server, {await DeletedRowsAsync(connectionString)} deleted rows\n" +
                    string.Join("\n----\n", workers.Take(2).Select(w => w.AllOutput)));
                Assert.All(workers.Take(2), w => Assert.False(w.HasExited, w.AllOutput));
                await Task.Delay(250);
            }

            var elapsed = DateTime.UtcNow - started;
            var survivors = workers.Take(2).Select(w => (Worker: w, Figures: Measure(w.Id))).ToList();
            foreach (var worker in workers.Take(2))
            {
                worker.Terminate();
            }

            foreach (var worker in workers.Take(2))
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(40));
                await worker.WaitForExitAsync(stop.Token);
                Assert.True(worker.ExitCode == 0, worker.AllOutput);
            }

            // Exactly once: every delivered message is in the store, none twice, and the ledger agrees.
            var stored = StoreInspector.Hashes(storeRoot);
            Assert.Equal(expected.Count, stored.Count);
            Assert.Equal(expected.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                var (rows, blobs, deleted) = await connection.QuerySingleAsync<(long, long, long)>(
                    "SELECT count(*), count(DISTINCT blob_name), count(*) FILTER (WHERE state = 'Deleted') FROM pop3ingest_messages;");
                Assert.Equal(expected.Count, rows);
                Assert.Equal(expected.Count, blobs);
                Assert.Equal(expected.Count, deleted);
            }

            // The instances started together without fighting over the shared schedule: each account's job was
            // inserted once (event 5003 is logged by the instance whose insert won), and Quartz holds one per account.
            Assert.Equal(Accounts, workers.Sum(w => Count(w, "[5003]")));
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                Assert.Equal(Accounts, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM qrtz_job_details WHERE sched_name = 'Pop3Ingest';"));
            }

            // Every instance did some of the work; the dead one's accounts were run again by the others.
            var runs = workers.Select(Runs).ToList();
            for (var n = 0; n < Instances; n++)
            {
                Assert.True(runs[n].Any(r => r.End is not null), $"instance {n + 1} finished no run");
            }

            foreach (var account in inFlight)
            {
                Assert.Contains(runs[0].Concat(runs[1]), r => r.Account == account && r.Start > killedAt);
            }

            // No account ran on two instances at once: the run intervals of one account never overlap. The killed
            // instance's open runs last until the kill. Dovecot would also have answered [IN-USE] (event 3003).
            var all = runs.SelectMany((list, n) => list.Select(r => (Instance: n, r.Account, r.Start, End: r.End ?? killedAt))).ToList();
            foreach (var group in all.GroupBy(r => r.Account))
            {
                var ordered = group.OrderBy(r => r.Start).ToList();
                for (var i = 1; i < ordered.Count; i++)
                {
                    Assert.True(ordered[i].Start >= ordered[i - 1].End,
                        $"{group.Key} ran on instance {ordered[i - 1].Instance + 1} ({ordered[i - 1].Start:HH:mm:ss.fff}-{ordered[i - 1].End:HH:mm:ss.fff}) and instance {ordered[i].Instance + 1} (from {ordered[i].Start:HH:mm:ss.fff}) at once");
                }
            }

            Assert.All(workers, w => Assert.DoesNotContain(w.Output, l => l.Contains("[3003]", StringComparison.Ordinal)));

            output.WriteLine($"{expected.Count} messages in {Accounts} accounts, 3 instances, one SIGKILLed: done in {elapsed.TotalSeconds:F1} s");
            for (var n = 0; n < Instances; n++)
            {
                output.WriteLine($"instance {n + 1}: {runs[n].Count(r => r.End is not null)} runs, {runs[n].Select(r => r.Account).Distinct().Count()} accounts");
            }

            output.WriteLine($"instance 3 at the kill: peak RSS {peakRss / 1024.0:F0} MiB, CPU {cpu.TotalSeconds:F1} s");
            foreach (var (worker, (peak, rss, cpuTime)) in survivors)
            {
                output.WriteLine($"survivor pid {worker.Id}: peak RSS {peak / 1024.0:F0} MiB, RSS {rss / 1024.0:F0} MiB, CPU {cpuTime.TotalSeconds:F1} s");
            }

            output.WriteLine("peak PostgreSQL connections while 3 instances ran: " +
                string.Join(", ", peakConnections.Select(p => $"{p.Key}: {p.Value} ({p.Value / (double)Instances:F1} per instance)")));
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
        }
    }

    private static void WriteConfig(string folder, int port, List<(string Name, string Password)> users, string connectionString, string storeRoot)
    {
        var accounts = new JsonObject();
        foreach (var (name, password) in users)
        {
            accounts[name] = new JsonObject { ["Username"] = name, ["Password"] = password };
        }

        var document = new JsonObject
        {
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Information", ["Quartz"] = "Warning" } },
            ["Pop3Ingest"] = new JsonObject
            {
                ["Ledger"] = new JsonObject { ["Provider"] = "Postgres", ["ConnectionString"] = connectionString },
                ["Storage"] = new JsonObject { ["Root"] = storeRoot },
                ["Scheduler"] = new JsonObject
                {
                    ["Clustered"] = true,
                    ["MaxConcurrentAccounts"] = 3,
                    ["ClusterCheckinInterval"] = "00:00:02",
                    ["ClusterCheckinMisfireThreshold"] = "00:00:03",
                },
                ["Defaults"] = new JsonObject
                {
                    ["Host"] = "127.0.0.1",
                    ["Port"] = port,
                    ["Security"] = "None",
                    ["AllowInsecureAuth"] = true,
                    ["Timeout"] = "00:00:20",
                    ["Interval"] = "00:00:05",

                    // Several runs per account, so that accounts move between instances and the kill lands mid-run.
                    ["MaxMessagesPerRun"] = 25,
                },
                ["Accounts"] = accounts,
                ["Http"] = new JsonObject { ["Urls"] = string.Empty },
            },
        };
        File.WriteAllText(Path.Combine(folder, "appsettings.json"), document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static int Count(WorkerProcess worker, string text) => worker.Output.Count(l => l.Contains(text, StringComparison.Ordinal));

    /// <summary>Accounts whose last run started on this instance has not finished.</summary>
    private static List<string> OpenRuns(WorkerProcess worker) =>
        [.. Runs(worker).Where(r => r.End is null).Select(r => r.Account)];

    /// <summary>Runs from the log: "[3001] account: run started" to "[3002] account: ..." (every run ends with 3002).</summary>
    private static List<(string Account, DateTime Start, DateTime? End)> Runs(WorkerProcess worker)
    {
        var runs = new List<(string Account, DateTime Start, DateTime? End)>();
        var open = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in worker.Output.ToList())
        {
            var isStart = line.Contains("[3001] ", StringComparison.Ordinal);
            var isEnd = line.Contains("[3002] ", StringComparison.Ordinal);
            if (!isStart && !isEnd)
            {
                continue;
            }

            var at = DateTime.Parse(line[..line.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
            var rest = line[(line.IndexOf("] ", StringComparison.Ordinal) + 2)..];
            var account = rest[..rest.IndexOf(':', StringComparison.Ordinal)];
            if (isStart)
            {
                Assert.False(open.ContainsKey(account), $"{account} started twice on one instance without finishing");
                open[account] = runs.Count;
                runs.Add((account, at, null));
            }
            else if (open.Remove(account, out var i))
            {
                runs[i] = runs[i] with { End = at };
            }
        }

        return runs;
    }

    private static async Task<long> DeletedRowsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM pop3ingest_messages WHERE state = 'Deleted';");
    }

    private static async Task SampleConnectionsAsync(string adminConnectionString, Dictionary<string, int> peaks, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync(CancellationToken.None);
        while (!cancellationToken.IsCancellationRequested)
        {
            var rows = await connection.QueryAsync<(string Name, long Count)>(
                "SELECT application_name, count(*) FROM pg_stat_activity WHERE application_name LIKE 'Pop3Ingest%' GROUP BY application_name;");
            foreach (var (name, count) in rows)
            {
                peaks[name] = Math.Max(peaks.GetValueOrDefault(name), (int)count);
            }

            try
            {
                await Task.Delay(200, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Peak and current resident memory (KiB) and CPU time of a process, from /proc.</summary>
    private static (long PeakRssKiB, long RssKiB, TimeSpan Cpu) Measure(int pid)
    {
        long Field(string name) => long.Parse(
            File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim().Split(' ')[0],
            CultureInfo.InvariantCulture);
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

        // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in clock ticks of 1/100 s on Linux.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (Field("VmHWM"), Field("VmRSS"), TimeSpan.FromMilliseconds(ticks * 10));
    }
}
