using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Pop3Ingest.ConsumerSample;

/// <summary>What one pass over the queue did.</summary>
/// <param name="Verified">Events whose blob matched (size and SHA-256), handled and deleted from the queue.</param>
/// <param name="Duplicates">Events whose id was already handled (delivery is at least once): deleted, not handled again.</param>
/// <param name="Rejected">Events left on the queue: not ours, blob missing, or blob not matching the event.</param>
internal sealed record ConsumeResult(int Verified, int Duplicates, int Rejected);

/// <summary>
/// A downstream consumer of Pop3Ingest's events, as a reader of the README would write one: receive a batch, fetch each
/// event's blob through its own container client and the event's <c>subject</c> (the blob path: the URL in
/// <c>data.blob</c> names the endpoint the worker used, which another network may not reach), check the bytes against
/// <c>data.size</c> and <c>data.sha256</c>, hand the message on, and only then delete the queue message. An event that
/// does not check out stays on the queue and comes back after the visibility timeout; its dequeue count tells when to
/// give up on it (a poison queue is the usual next step).
/// </summary>
internal sealed class MailEventConsumer
{
    // Azurite 3.35 answers 400 to the SDKs' newest service versions; every storage account accepts this one.
    private const QueueClientOptions.ServiceVersion QueueVersion = QueueClientOptions.ServiceVersion.V2025_11_05;
    private const BlobClientOptions.ServiceVersion BlobVersion = BlobClientOptions.ServiceVersion.V2025_11_05;

    private readonly QueueClient _queue;
    private readonly BlobContainerClient _container;
    private readonly Func<JsonElement, Stream, CancellationToken, Task> _handle;
    private readonly HashSet<string> _handled = new(StringComparer.Ordinal);

    /// <param name="connectionString">The storage account's connection string (the worker's, or one with read and process rights).</param>
    /// <param name="queueName">The worker's <c>Notifications:AzureQueue:QueueName</c>.</param>
    /// <param name="containerName">The worker's <c>Storage:AzureBlob:Container</c>.</param>
    /// <param name="handle">Receives each verified event and its message (the .eml) as a stream.</param>
    public MailEventConsumer(string connectionString, string queueName, string containerName, Func<JsonElement, Stream, CancellationToken, Task> handle)
    {
        // Pop3Ingest writes Base64 queue messages by default (what Azure Functions reads).
        _queue = new QueueClient(connectionString, queueName, new QueueClientOptions(QueueVersion) { MessageEncoding = QueueMessageEncoding.Base64 });
        _container = new BlobContainerClient(connectionString, containerName, new BlobClientOptions(BlobVersion));
        _handle = handle;
    }

    /// <summary>Receives until the queue answers with no visible message, or <paramref name="maxEvents"/> were seen.</summary>
    public async Task<ConsumeResult> ConsumeAsync(int maxEvents, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        int verified = 0, duplicates = 0, rejected = 0;
        while (verified + duplicates + rejected < maxEvents)
        {
            QueueMessage[] batch = await _queue.ReceiveMessagesAsync(Math.Min(32, maxEvents - verified - duplicates - rejected), visibilityTimeout, cancellationToken);
            if (batch.Length == 0)
            {
                break;
            }

            foreach (var message in batch)
            {
                switch (await HandleAsync(message, cancellationToken))
                {
                    case Outcome.Verified:
                        verified++;
                        await _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                        break;
                    case Outcome.Duplicate:
                        duplicates++;
                        await _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                        break;
                    default:
                        rejected++;
                        break;
                }
            }
        }

        return new ConsumeResult(verified, duplicates, rejected);
    }

    private async Task<Outcome> HandleAsync(QueueMessage message, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(message.Body.ToMemory());
        }
        catch (JsonException e)
        {
            await Console.Error.WriteLineAsync($"{message.MessageId}: not JSON ({e.Message}); left on the queue");
            return Outcome.Rejected;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || Text(root, "type") != "pop3ingest.message.stored" || Text(root, "specversion") != "1.0" ||
                Text(root, "id") is not { } id || Text(root, "subject") is not { } blobName || !root.TryGetProperty("data", out var data))
            {
                await Console.Error.WriteLineAsync($"{message.MessageId}: not a pop3ingest.message.stored event; left on the queue");
                return Outcome.Rejected;
            }

            if (_handled.Contains(id))
            {
                return Outcome.Duplicate;
            }

            var blob = _container.GetBlobClient(blobName);
            try
            {
                // Read the blob once to check it, then again to hand it on: a consumer that processes as it reads would
                // hash while it processes and roll back on a mismatch instead.
                var (size, sha256) = await MeasureAsync(blob, cancellationToken);
                if (size != data.GetProperty("size").GetInt64() || sha256 != Text(data, "sha256"))
                {
                    await Console.Error.WriteLineAsync($"{id}: {blobName} has {size} bytes, SHA-256 {sha256}; the event says otherwise; left on the queue");
                    return Outcome.Rejected;
                }

                await using var content = await blob.OpenReadAsync(cancellationToken: cancellationToken);
                await _handle(root, content, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                await Console.Error.WriteLineAsync($"{id}: {blobName} does not exist; left on the queue");
                return Outcome.Rejected;
            }

            _handled.Add(id);
            return Outcome.Verified;
        }
    }

    private static async Task<(long Size, string Sha256)> MeasureAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var stream = await blob.OpenReadAsync(cancellationToken: cancellationToken);
        var buffer = new byte[81920];
        long size = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            size += read;
        }

        return (size, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private enum Outcome
    {
        Verified,
        Duplicate,
        Rejected,
    }
}
