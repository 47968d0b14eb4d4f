using System.Text.Json.Nodes;
using Pop3Ingest.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// The worker is SIGKILLed at random instants in the middle of runs (the server side slowed by a bandwidth-capping
/// proxy so that kills land mid-run); after every kill nothing deleted on the server is missing from the store and
/// nothing is stored twice; a final run leaves every message stored exactly once and the mailbox empty.
/// </summary>
[Trait("Category", WorkerProcess.Category)]
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

    [Fact]
    public async Task Sigkills_while_storing_into_azurite_and_announcing_on_its_queue_lose_and_duplicate_nothing()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        var inspector = new StorageInspector(azurite);
        var blobHashes = new Dictionary<string, string>(StringComparer.Ordinal);
        async Task<List<string>> StoredInAzurite()
        {
            IReadOnlyList<StorageInspector.BlobItem> blobs;
            try
            {
                blobs = await inspector.ListBlobsAsync("mail");
            }
            catch (Xunit.Sdk.XunitException)
            {
                return []; // the container does not exist before the first run created it
            }

            foreach (var blob in blobs.Where(b => b.Name.EndsWith(".eml", StringComparison.Ordinal) && !blobHashes.ContainsKey(b.Name)))
            {
                blobHashes[blob.Name] = StoreInspector.Hash(await inspector.GetBlobAsync("mail", blob.Name));
            }

            return [.. blobs.Where(b => b.Name.EndsWith(".eml", StringComparison.Ordinal)).Select(b => blobHashes[b.Name])];
        }

        var expected = await KillLoopAsync(kills: 50, upFront: 2000, perRound: 0, bytesPerSecond: 1_000_000, seed: 77,
            root =>
            {
                root["Storage"] = new JsonObject { ["Provider"] = "AzureBlob", ["ConnectionString"] = azurite.ConnectionString, ["Container"] = "mail" };
                root["Notifications"] = new JsonObject { ["Provider"] = "AzureQueue", ["ConnectionString"] = azurite.ConnectionString, ["Queue"] = "events" };
            },
            StoredInAzurite);

        // At least once, with a stable id: every message announced, duplicates only with the same id.
        var events = await inspector.ReceiveAllAsync("events");
        var ids = events.Select(e => JsonNode.Parse(Convert.FromBase64String(e.Text))!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(expected, ids.Distinct(StringComparer.Ordinal).Count());
        output.WriteLine($"{events.Count} queue messages for {expected} stored messages");
    }

    private async Task<int> KillLoopAsync(int kills, int upFront, int perRound, int bytesPerSecond, int seed,
        Action<JsonObject>? configure = null, Func<Task<List<string>>>? stored = null)
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("crash", "pw")] });
        await using var proxy = new ThrottlingProxy(server.Port, bytesPerSecond);
        var random = new Random(seed);
        var expected = new HashSet<string>(StringComparer.Ordinal);
        var next = 1;
        var storeRoot = Path.Combine(_folder, "data", "mail");
        stored ??= () => Task.FromResult(StoreInspector.MessageFiles(storeRoot).Select(f => HashOf(f, crlf: false)).ToList());
        WorkerConfig.Write(_folder, proxy.Port, "crash", "pw", a => a["Timeout"] = "00:00:15", configure);

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

            AssertNothingLostOrDuplicated(server, expected, await stored(), $"after kill {round + 1}");
        }

        output.WriteLine($"{kills} kills, {hits} landed in a live run; {expected.Count} messages delivered");
        Assert.True(hits * 3 >= kills * 2, $"only {hits} of {kills} kills landed in a live run");

        WorkerConfig.Write(_folder, server.Port, "crash", "pw", root: configure);
        var (code, text) = await WorkerProcess.RunAsync(_folder, TimeSpan.FromMinutes(5), null, "once");
        Assert.True(code == 0, text);
        var final = await stored();
        AssertNothingLostOrDuplicated(server, expected, final, "after the final run");
        Assert.Equal(0, server.MessageCount("crash"));
        Assert.Equal(expected.Order(StringComparer.Ordinal), final.Order(StringComparer.Ordinal));
        if (Directory.Exists(Path.Combine(storeRoot, ".tmp")))
        {
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(storeRoot, ".tmp")));
        }

        return expected.Count;
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

    private void AssertNothingLostOrDuplicated(DovecotServer server, HashSet<string> expected, List<string> stored, string when)
    {
        Assert.True(stored.Count == stored.Distinct(StringComparer.Ordinal).Count(), $"a message was stored twice {when}");
        Assert.All(stored, h => Assert.Contains(h, expected));
        var onServer = server.MessageFiles("crash").Select(f => HashOf(f, crlf: true)).ToHashSet(StringComparer.Ordinal);
        var storedSet = stored.ToHashSet(StringComparer.Ordinal);
        var lost = expected.Where(h => !onServer.Contains(h) && !storedSet.Contains(h)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} messages deleted on the server without being stored {when}");
    }
}
