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
    public async Task Sigkill_at_random_instants_loses_nothing_and_stores_nothing_twice()
    {
        const int kills = 24;
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("crash", "pw")] });
        await using var proxy = new ThrottlingProxy(server.Port, bytesPerSecond: 250_000);
        var random = new Random(20261123);
        var expected = new HashSet<string>(StringComparer.Ordinal);
        var next = 1;
        var storeRoot = Path.Combine(_folder, "data", "mail");
        WorkerConfig.Write(_folder, proxy.Port, "crash", "pw", a => a["Timeout"] = "00:00:15");

        var hits = 0;
        for (var round = 0; round < kills; round++)
        {
            for (var i = 0; i < 15; i++, next++)
            {
                var message = TestMessages.Create(next, TestMessages.SizeFor(next), seed: 7);
                server.Deliver("crash", message);
                expected.Add(StoreInspector.Hash(TestMessages.ToCrlf(message)));
            }

            using var worker = WorkerProcess.Start(_folder, null, "once");
            var started = DateTime.UtcNow;
            while (!worker.HasExited && !worker.Output.Any(l => l.Contains("[3001]", StringComparison.Ordinal)) &&
                   DateTime.UtcNow - started < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(5);
            }

            await Task.Delay(random.Next(10, 900));
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
        var (code, text) = await WorkerProcess.RunAsync(_folder, TimeSpan.FromMinutes(3), null, "once");
        Assert.True(code == 0, text);
        AssertNothingLostOrDuplicated(server, expected, storeRoot, "after the final run");
        Assert.Equal(0, server.MessageCount("crash"));
        Assert.Equal(expected.Order(StringComparer.Ordinal), StoreInspector.Hashes(storeRoot).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(storeRoot, ".tmp")));
    }

    private static void AssertNothingLostOrDuplicated(DovecotServer server, HashSet<string> expected, string storeRoot, string when)
    {
        var stored = StoreInspector.Hashes(storeRoot);
        Assert.True(stored.Count == stored.Distinct(StringComparer.Ordinal).Count(), $"a message was stored twice {when}");
        Assert.All(stored, h => Assert.Contains(h, expected));
        var onServer = server.MessageFiles("crash").Select(f => StoreInspector.Hash(TestMessages.ToCrlf(File.ReadAllBytes(f)))).ToHashSet(StringComparer.Ordinal);
        var storedSet = stored.ToHashSet(StringComparer.Ordinal);
        var lost = expected.Where(h => !onServer.Contains(h) && !storedSet.Contains(h)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} messages deleted on the server without being stored {when}");
    }
}
