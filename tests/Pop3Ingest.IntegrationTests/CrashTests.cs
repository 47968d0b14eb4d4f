using Pop3Ingest.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// The worker is SIGKILLed at random instants in the middle of runs (the server side slowed by a bandwidth-capping
/// proxy so that kills land mid-run); after every kill nothing deleted on the server is missing from the store and
/// nothing is stored twice; a final run leaves every message stored exactly once and the mailbox empty.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class CrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-crash-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public Task Sigkill_at_random_instants_loses_nothing_and_stores_nothing_twice() =>
        KillLoopAsync(kills: 24, upFront: 0, perRound: 15, bytesPerSecond: 250_000, seed: 20261123);

    [Fact]
    public Task Fifty_sigkills_across_a_few_thousand_messages_leave_each_stored_exactly_once() =>
        KillLoopAsync(kills: 50, upFront: 2000, perRound: 0, bytesPerSecond: 1_000_000, seed: 50);

    private async Task KillLoopAsync(int kills, int upFront, int perRound, int bytesPerSecond, int seed)
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("crash", "pw")] });
        await using var proxy = new ThrottlingProxy(server.Port, bytesPerSecond);
        var random = new Random(seed);
        var expected = new HashSet<string>(StringComparer.Ordinal);
        var next = 1;
        var storeRoot = Path.Combine(_folder, "data", "mail");
        WorkerConfig.Write(_folder, proxy.Port, "crash", "pw", a => a["Timeout"] = "00:00:15");

        void Deliver(int count)
        {
            for (var i = 0; i < count; i++, next++)
            {
                var message = TestMessages.Create(next, TestMessages.SizeFor(next), seed);
                server.Deliver("crash", message);
                expected.Add(StoreInspector.Hash(TestMessages.ToCrlf(message)));
            }
        }

        Deliver(upFront);
        var hits = 0;
        for (var round = 0; round < kills; round++)
        {
            Deliver(perRound);
            using var worker = WorkerProcess.Start(_folder, null, "once");
            var started = DateTime.UtcNow;
            while (!worker.HasExited && !worker.Output.Any(l => l.Contains("[3001]", StringComparison.Ordinal)) &&
                   DateTime.UtcNow - started < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(5);
            }

            await Task.Delay(random.Next(10, 1200));
            var live = !worker.HasExited && !worker.Output.Any(l => l.Contains("[3002]", StringComparison.Ordinal));
            worker.Kill();
            if (live)
            {
                hits++;
            }

            AssertNothingLostOrDuplicated(server, expected, storeRoot, $"after kill {round + 1}");
        }

        output.WriteLine($"{kills} kills, {hits} landed in a live run; {expected.Count} messages delivered");
        Assert.True(hits * 3 >= kills * 2, $"only {hits} of {kills} kills landed in a live run");

        WorkerConfig.Write(_folder, server.Port, "crash", "pw");
        var (code, text) = await WorkerProcess.RunAsync(_folder, TimeSpan.FromMinutes(5), null, "once");
        Assert.True(code == 0, text);
        AssertNothingLostOrDuplicated(server, expected, storeRoot, "after the final run");
        Assert.Equal(0, server.MessageCount("crash"));
        Assert.Equal(expected.Order(StringComparer.Ordinal), StoreInspector.Hashes(storeRoot).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(storeRoot, ".tmp")));
    }

    // Neither a maildir file nor a stored blob ever changes content, so each is hashed once.
    private readonly Dictionary<string, string> _hashes = new(StringComparer.Ordinal);

    private string HashOf(string path, bool crlf)
    {
        if (!_hashes.TryGetValue(path, out var hash))
        {
            var bytes = File.ReadAllBytes(path);
            hash = StoreInspector.Hash(crlf ? TestMessages.ToCrlf(bytes) : bytes);
            _hashes[path] = hash;
        }

        return hash;
    }

    private void AssertNothingLostOrDuplicated(DovecotServer server, HashSet<string> expected, string storeRoot, string when)
    {
        var stored = StoreInspector.MessageFiles(storeRoot).Select(f => HashOf(f, crlf: false)).ToList();
        Assert.True(stored.Count == stored.Distinct(StringComparer.Ordinal).Count(), $"a message was stored twice {when}");
        Assert.All(stored, h => Assert.Contains(h, expected));
        var onServer = server.MessageFiles("crash").Select(f => HashOf(f, crlf: true)).ToHashSet(StringComparer.Ordinal);
        var storedSet = stored.ToHashSet(StringComparer.Ordinal);
        var lost = expected.Where(h => !onServer.Contains(h) && !storedSet.Contains(h)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} messages deleted on the server without being stored {when}");
    }
}
