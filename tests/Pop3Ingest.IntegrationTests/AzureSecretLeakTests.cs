using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Storage.AzureBlob;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// No account key and no SAS signature reaches an exception, a log line of ours, or anything Azure.Core writes to its
/// event source (<c>Azure-Core</c>, which logs every request and response at Verbose; nothing forwards it to our
/// logger, but an operator may listen to it, with <c>dotnet-trace</c> for one), whether the secret is right or wrong.
/// </summary>
public sealed class AzureSecretLeakTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string BlobName = "alice/2026/11/23/0123456789abcdef0123456789abcdef.eml";
    private static readonly BlobProperties s_properties = new("alice", "0123456789abcdef0123456789abcdef");

    [Fact]
    public async Task Keys_and_signatures_appear_in_no_exception_log_line_or_sdk_event_at_any_level()
    {
        using var events = new AzureEventCollector();
        var logger = new CollectingLogger();
        var wrongKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
        var goodSas = AccountSas.Create("rwdlacup", "bq", "sco", DateTimeOffset.UtcNow.AddHours(1));
        var wrongSas = AccountSas.Create("rwdlacup", "bq", "sco", DateTimeOffset.UtcNow.AddHours(1), accountKey: wrongKey);
        var expiredSas = AccountSas.Create("rwdlacup", "bq", "sco", DateTimeOffset.UtcNow.AddHours(-1));
        var server = azurite.Server;
        var connectionStrings = new[]
        {
            server.ConnectionString,
            server.ConnectionString.Replace(AzuriteServer.AccountKey, wrongKey, StringComparison.Ordinal),
            AccountSas.ConnectionString(server, goodSas),
            AccountSas.ConnectionString(server, wrongSas),
            AccountSas.ConnectionString(server, expiredSas),
            // Nothing listens there: connection errors, retried.
            $"BlobEndpoint=http://127.0.0.1:1/{AzuriteServer.AccountName};QueueEndpoint=http://127.0.0.1:1/{AzuriteServer.AccountName};SharedAccessSignature={goodSas}",
        };
        var errors = new List<Exception>();
        var settings = AzuriteFixture.FastRetries with { BlockSize = 64 * 1024 };
        foreach (var connectionString in connectionStrings)
        {
            var parsed = StorageConnectionString.Parse(connectionString);
            var container = AzuriteFixture.NewName("c");
            var store = new AzureBlobMessageStore(StorageEndpoint.Blob(parsed), container, settings, logger);
            var notifier = new AzureQueueNotifier(StorageEndpoint.Queue(parsed), AzuriteFixture.NewName("q"), QueueMessageEncoding.Base64, settings, logger);
            await Collect(errors, () => store.InitializeAsync(CancellationToken.None));
            await Collect(errors, () => store.PingAsync(CancellationToken.None));
            await Collect(errors, () => store.CheckAsync(CancellationToken.None));
            await Collect(errors, () => store.PutAsync(BlobName, new MemoryStream(new byte[1000]), s_properties, _ => "{}"u8.ToArray(), CancellationToken.None));
            await Collect(errors, () => store.PutAsync(BlobName.Replace("0123", "4567", StringComparison.Ordinal), new MemoryStream(new byte[200_000]),
                s_properties, null, CancellationToken.None));
            await Collect(errors, () => store.OpenReadAsync(BlobName, CancellationToken.None));
            await Collect(errors, async () =>
            {
                await foreach (var _ in store.ListAsync("alice", CancellationToken.None))
                {
                }
            });
            await Collect(errors, () => notifier.InitializeAsync(CancellationToken.None));
            await Collect(errors, () => notifier.CheckAsync(CancellationToken.None));
            await Collect(errors, () => notifier.PublishAsync(new MessageEventData
            {
                Account = "alice", Uidl = "u1", Blob = store.LocationOf(BlobName), BlobName = BlobName, Size = 1000, Sha256 = new string('a', 64),
                Stored = DateTimeOffset.UtcNow,
            }, CancellationToken.None));
        }

        // Every kind of credential failed somewhere, and the SDK did log requests and responses.
        Assert.Contains(errors, e => e.Message.Contains("the account key or SAS is wrong", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("cannot connect", StringComparison.Ordinal));
        Assert.True(events.Count > 100, $"only {events.Count} Azure.Core events");
        Assert.Contains(events.Texts, t => t.Contains("sig=REDACTED", StringComparison.Ordinal));
        Assert.Contains(events.Texts, t => t.Contains("Authorization:REDACTED", StringComparison.OrdinalIgnoreCase) || t.Contains("Authorization: REDACTED", StringComparison.OrdinalIgnoreCase));

        var secrets = new[] { AzuriteServer.AccountKey, wrongKey }.SelectMany(KeyForms)
            .Concat(new[] { goodSas, wrongSas, expiredSas }.SelectMany(SignatureForms))
            .ToList();
        var texts = errors.Select(e => e.ToString()).Concat(logger.Lines).Concat(events.Texts).ToList();
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(texts, t => t.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    [Trait("Category", WorkerProcess.Category)]
    public async Task Check_with_trace_logging_shows_no_key_or_signature()
    {
        var folder = Directory.CreateTempSubdirectory("p3i-azure-secret-").FullName;
        try
        {
            var wrongKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
            var wrongSas = AccountSas.Create("rwdlacup", "q", "sco", DateTimeOffset.UtcNow.AddHours(1), accountKey: wrongKey);
            var root = new JsonObject
            {
                ["Pop3Ingest"] = new JsonObject
                {
                    ["Ledger"] = new JsonObject { ["ConnectionString"] = "Data Source=data/ledger.db" },
                    ["Storage"] = new JsonObject
                    {
                        ["Provider"] = "AzureBlob", ["Container"] = "mail",
                        ["ConnectionString"] = azurite.Server.ConnectionString.Replace(AzuriteServer.AccountKey, wrongKey, StringComparison.Ordinal),
                    },
                    ["Notifications"] = new JsonObject
                    {
                        ["Provider"] = "AzureQueue", ["Queue"] = "events", ["ConnectionString"] = AccountSas.ConnectionString(azurite.Server, wrongSas),
                    },
                    ["Accounts"] = new JsonObject
                    {
                        ["alice"] = new JsonObject
                        {
                            ["Host"] = "127.0.0.1", ["Port"] = 1, ["Security"] = "None", ["AllowInsecureAuth"] = true,
                            ["Username"] = "alice", ["Password"] = "s3cret", ["Interval"] = "00:05:00",
                        },
                    },
                },
                ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Trace" } },
            };
            var path = Path.Combine(folder, "appsettings.json");
            await File.WriteAllTextAsync(path, root.ToJsonString());

            var (exit, output) = await WorkerProcess.RunAsync(folder, TimeSpan.FromMinutes(2), null, "check", "--config", path);

            Assert.NotEqual(0, exit);
            Assert.Contains("the account key or SAS is wrong", output, StringComparison.Ordinal);
            foreach (var secret in KeyForms(wrongKey).Concat(SignatureForms(wrongSas)))
            {
                Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A key whole, its start, and its start as it would appear URL-escaped.</summary>
    private static IEnumerable<string> KeyForms(string key) => [key, key[..16], Uri.EscapeDataString(key)[..16]];

    /// <summary>The <c>sig</c> of a SAS as it is in the token (escaped) and decoded, and their starts.</summary>
    private static IEnumerable<string> SignatureForms(string sas)
    {
        var escaped = sas[(sas.IndexOf("sig=", StringComparison.Ordinal) + 4)..];
        var decoded = Uri.UnescapeDataString(escaped);
        return [escaped, decoded, escaped[..12], decoded[..12]];
    }

    private static async Task Collect(List<Exception> errors, Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception e) when (e is StoreException or Ingestion.Notifications.NotifierException)
        {
            errors.Add(e);
        }
    }

    /// <summary>Everything Azure.Core's event sources write, at every level, formatted and with each payload value.</summary>
    private sealed class AzureEventCollector : EventListener
    {
        private readonly ConcurrentQueue<string> _texts = new();

        public int Count => _texts.Count;

        public IEnumerable<string> Texts => _texts;

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name.StartsWith("Azure-", StringComparison.Ordinal))
            {
                EnableEvents(eventSource, EventLevel.Verbose, EventKeywords.All);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            var text = new StringBuilder(eventData.EventSource.Name).Append(' ').Append(eventData.EventName).Append(' ');
            if (eventData.Message is { } format && eventData.Payload is { } payload)
            {
                try
                {
                    text.Append(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, [.. payload]));
                }
                catch (FormatException)
                {
                    text.Append(format);
                }
            }

            foreach (var value in eventData.Payload ?? [])
            {
                text.Append(" | ").Append(value switch
                {
                    byte[] bytes => Encoding.UTF8.GetString(bytes),
                    _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
                });
            }

            _texts.Enqueue(text.ToString());
        }
    }

    private sealed class CollectingLogger : ILogger
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IEnumerable<string> Lines => _lines;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue($"{logLevel} {eventId} {formatter(state, exception)} {exception}");
    }
}
