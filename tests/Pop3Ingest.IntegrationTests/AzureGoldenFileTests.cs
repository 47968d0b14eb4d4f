using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Pop3Ingest.Ingestion.Ledger.Sqlite;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Tests.Support;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// What lands in Azure for a fixed input is fixed: the blob names, each blob's bytes, type and metadata, the sidecars' bytes
/// and the events' bytes (so <c>data.blob</c> too), compared with <c>Golden/azure-run.txt</c>. Consumers key on all of
/// them, so a change of the Azure client underneath must not change one byte. The endpoint (a free port) is written as
/// <c>{blobEndpoint}</c>. To regenerate after an intended change: <c>P3I_UPDATE_GOLDEN=1 dotnet test --filter AzureGoldenFileTests</c>.
/// </summary>
public sealed class AzureGoldenFileTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly string s_goldenPath = Path.Combine(AppContext.BaseDirectory, "Golden", "azure-run.txt");

    [Fact]
    public async Task The_same_input_lands_byte_for_byte_as_recorded()
    {
        await using var mailbox = new FakeMailbox();
        // Two single Put Blobs, one message larger than a block (staged), and a UIDL with punctuation.
        var sources = new (string Uidl, byte[] Content)[]
        {
            ("UID-0001", Message(1, 3_000)),
            ("UID-0002", Message(2, 20_000)),
            ("UID-0003", Message(3, 150_000)),
            ("x!~#{}|0", Message(4, 500)),
        };
        foreach (var (uidl, content) in sources)
        {
            mailbox.Messages.Add(new FakeMessage(uidl, content));
        }

        var container = AzuriteFixture.NewName("c");
        var queue = AzuriteFixture.NewName("q");
        var store = azurite.Store(container, AzuriteFixture.FastRetries with { BlockSize = 64 * 1024 });
        var notifier = azurite.Notifier(queue);
        await store.InitializeAsync(CancellationToken.None);
        await notifier.InitializeAsync(CancellationToken.None);
        var folder = Directory.CreateTempSubdirectory("p3i-golden-").FullName;
        try
        {
            var ledger = new SqliteLedger($"Data Source={Path.Combine(folder, "ledger.db")}");
            await ledger.MigrateAsync(CancellationToken.None);
            var time = new ManualTimeProvider(new DateTimeOffset(2026, 11, 23, 8, 37, 50, TimeSpan.Zero));
            // Uploads overlap as the worker sets them up for this store: the bytes must not depend on it.
            var options = new IngestionOptions { Uploads = new UploadOverlap(MaxInFlight: 16, MaxMessageBytes: 64 * 1024, new UploadBudget(64 * 1024 * 1024)) };
            var runner = new IngestionRunner(ledger, store, notifier, options, time, NullLogger<IngestionRunner>.Instance);
            var account = new AccountSettings
            {
                Name = "Golden",
                Client = new Pop3ClientOptions { Host = "127.0.0.1", Port = mailbox.Port, Security = Pop3Security.None, AllowInsecureAuth = true },
                Credentials = _ => ValueTask.FromResult(Pop3Credentials.FromPassword("u", "p")),
                Auth = Pop3AuthMethod.UserPass,
            };

            var result = await runner.RunAsync(account, stopping: CancellationToken.None);
            Assert.True(result.Outcome == RunOutcome.Succeeded, $"{result.FailureKind}: {result.Error}");
            Assert.Equal(4, result.Notified);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }

        var endpoint = $"{azurite.Server.BlobEndpoint}/{container}";
        string Normalize(string text) => text.Replace(endpoint, "{blobEndpoint}", StringComparison.Ordinal);
        var report = new StringBuilder();
        var blobs = (await azurite.Inspector.ListBlobsAsync(container)).OrderBy(b => b.Name, StringComparer.Ordinal).ToList();
        foreach (var blob in blobs)
        {
            var bytes = await azurite.Inspector.GetBlobAsync(container, blob.Name);
            // A sidecar holds the endpoint (its port varies): its text, normalized, is recorded below instead of its size and hash.
            report.Append(blob.Name.EndsWith(".json", StringComparison.Ordinal)
                ? $"blob {blob.Name} {blob.ContentType}\n"
                : string.Create(CultureInfo.InvariantCulture, $"blob {blob.Name} {blob.ContentType} {blob.Size} bytes sha256 {Convert.ToHexStringLower(SHA256.HashData(bytes))}\n"));
            foreach (var (key, value) in blob.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                report.Append(CultureInfo.InvariantCulture, $"  metadata {key}={value}\n");
            }

            if (blob.Name.EndsWith(".json", StringComparison.Ordinal))
            {
                report.Append("  ").Append(Normalize(Encoding.UTF8.GetString(bytes))).Append('\n');
            }
            else
            {
                // Each message is stored exactly as RETR returned it.
                Assert.Contains(sources, s => s.Content.AsSpan().SequenceEqual(bytes));
            }
        }

        var events = (await azurite.Inspector.ReceiveAllAsync(queue))
            .Select(m => Encoding.UTF8.GetString(Convert.FromBase64String(m.Text)))
            .OrderBy(json => JsonDocument.Parse(json).RootElement.GetProperty("id").GetString(), StringComparer.Ordinal);
        foreach (var json in events)
        {
            report.Append("event ").Append(Normalize(json)).Append('\n');
        }

        var actual = report.ToString();
        var golden = s_goldenPath;
        if (Environment.GetEnvironmentVariable("P3I_UPDATE_GOLDEN") == "1")
        {
            golden = Path.Combine(SourceDirectory(), "Golden", "azure-run.txt");
            await File.WriteAllTextAsync(golden, actual);
        }

        Assert.Equal(await File.ReadAllTextAsync(golden), actual);
    }

    /// <summary>A message of about <paramref name="size"/> bytes, the same in every process (TestMessages seeds with HashCode, which is not).</summary>
    private static byte[] Message(int index, int size)
    {
        var random = new Random(index);
        var text = new StringBuilder(size + 1024)
            .Append(CultureInfo.InvariantCulture, $"From: \"Sender {index}\" <sender{index}@example.org>\r\n")
            .Append("To: \"R\u00e9cipient\" <recipient@example.net>, other@example.net\r\n")
            .Append(CultureInfo.InvariantCulture, $"Subject: =?utf-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes($"Pr\u00fcfung {index}"))}?=\r\n")
            .Append(CultureInfo.InvariantCulture, $"Message-ID: <golden{index}@example.org>\r\n")
            .Append("Date: Mon, 23 Nov 2026 08:00:00 +0100\r\nMIME-Version: 1.0\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Type: multipart/mixed; boundary=\"b{index}\"\r\n\r\n")
            .Append(CultureInfo.InvariantCulture, $"--b{index}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n.a line that starts with a dot\r\nHello {index}\r\n")
            .Append(CultureInfo.InvariantCulture, $"--b{index}\r\nContent-Type: application/octet-stream; name=\"data{index}.bin\"\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Disposition: attachment; filename=\"data{index}.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        var payload = new byte[Math.Max(0, (size - text.Length) * 3 / 4)];
        random.NextBytes(payload);
        var base64 = Convert.ToBase64String(payload);
        for (var i = 0; i < base64.Length; i += 76)
        {
            text.Append(base64.AsSpan(i, Math.Min(76, base64.Length - i))).Append("\r\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"--b{index}--\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
