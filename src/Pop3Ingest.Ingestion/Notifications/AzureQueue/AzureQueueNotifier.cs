using System.Text;
using Azure;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Storage;

namespace Pop3Ingest.Ingestion.Notifications.AzureQueue;

/// <summary>
/// Announces stored messages on an Azure Storage queue (README.md, "The event") through Azure.Storage.Queues'
/// <see cref="QueueClient"/>: one CloudEvent per message, never expiring (<c>messagettl=-1</c>), Base64 encoded by
/// default, within 64 KiB.
/// </summary>
internal sealed class AzureQueueNotifier : INotifier
{
    /// <summary>Put Message's <c>messagettl=-1</c>: the message never expires (version 2017-07-29 and later); consumers may be down for days.</summary>
    private static readonly TimeSpan s_neverExpires = TimeSpan.FromSeconds(-1);

    private readonly QueueClient _client;
    private readonly StorageErrors _errors;
    private readonly string _queue;
    private readonly QueueMessageEncoding _encoding;
    private readonly ILogger _logger;

    public AzureQueueNotifier(StorageEndpoint endpoint, string queue, QueueMessageEncoding encoding, AzureStorageSettings settings, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(settings);
        var sdkEncoding = encoding switch
        {
            QueueMessageEncoding.Base64 => global::Azure.Storage.Queues.QueueMessageEncoding.Base64,
            QueueMessageEncoding.None => global::Azure.Storage.Queues.QueueMessageEncoding.None,
            _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "Unknown queue message encoding."),
        };
        _client = endpoint.Credential.QueueService(endpoint.ServiceUri, settings.QueueOptions(sdkEncoding)).GetQueueClient(queue);
        _errors = new StorageErrors("Azure Queue Storage", "Storage Queue Data Contributor", endpoint, settings);
        _queue = queue;
        _encoding = encoding;
        _logger = logger;
    }

    public string Kind => "AzureQueue";

    public string Queue => _queue;

    public Task InitializeAsync(CancellationToken cancellationToken) => GuardAsync($"creating the queue '{_queue}'", async operation =>
    {
        try
        {
            // 201 created; 204 it exists with the same metadata.
            var response = await _client.CreateAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (response.Status == 201)
            {
                Log.QueueCreated(_logger, _queue, _errors.ServiceUri.ToString());
            }
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // QueueAlreadyExists, with other metadata, which does not matter here.
        }
        catch (RequestFailedException e) when (e.Status > 0 && _errors.Refused(e, operation) is { Failure: AzureStorageFailure.NotPermitted } failure)
        {
            // A SAS or a role that may add messages need not be allowed to create queues.
            Log.QueueNotCreated(_logger, _queue, failure.Message);
        }
    }, cancellationToken);

    public Task PingAsync(CancellationToken cancellationToken) => GuardAsync($"reading the queue '{_queue}'", async _ =>
        await _client.GetPropertiesAsync(cancellationToken).ConfigureAwait(false), cancellationToken);

    public Task<string> CheckAsync(CancellationToken cancellationToken) => GuardAsync($"reading the queue '{_queue}'", async _ =>
    {
        try
        {
            await _client.GetPropertiesAsync(cancellationToken).ConfigureAwait(false);
            return $"queue {_queue} at {_errors.ServiceUri}";
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return $"queue {_queue} does not exist at {_errors.ServiceUri}; the first run creates it";
        }
    }, cancellationToken);

    public Task PublishAsync(MessageEventData data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(data);
        var eventId = BlobNaming.EventIdOf(data.Account, data.Uidl, data.Generation);
        var (json, bytes, truncated) = CloudEventWriter.ToQueueMessage(data, _encoding);
        if (truncated)
        {
            Log.EventTruncated(_logger, eventId, bytes);
        }

        // The client encodes (Base64) or XML-escapes (None) the JSON as it goes into <MessageText>.
        return GuardAsync($"Put Message {eventId} to the queue '{_queue}'", async _ =>
            await _client.SendMessageAsync(new BinaryData(json), visibilityTimeout: null, timeToLive: s_neverExpires, cancellationToken).ConfigureAwait(false),
            cancellationToken);
    }

    /// <summary>Runs one SDK call; what it throws becomes a <see cref="NotifierException"/> naming the operation.</summary>
    private async Task<T> GuardAsync<T>(string operation, Func<string, Task<T>> action, CancellationToken cancellationToken)
    {
        try
        {
            return await action(operation).ConfigureAwait(false);
        }
        catch (Exception e) when (_errors.Describe(e, operation, cancellationToken) is { } failure)
        {
            throw new NotifierException(failure.Message, failure, failure.IsTransient);
        }
    }

    private Task GuardAsync(string operation, Func<string, Task> action, CancellationToken cancellationToken) =>
        GuardAsync(operation, async o =>
        {
            await action(o).ConfigureAwait(false);
            return true;
        }, cancellationToken);
}
