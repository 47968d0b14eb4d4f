using System.Text;
using Azure.Core;
using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Storage;

namespace Pop3Ingest.Ingestion.Notifications.AzureQueue;

/// <summary>
/// Announces stored messages on an Azure Storage queue (README.md, "The event"): one CloudEvent per message through the
/// Queue REST API's Put Message, never expiring (<c>messagettl=-1</c>), Base64 encoded by default, within 64 KiB.
/// </summary>
internal sealed class AzureQueueNotifier : INotifier
{
    private readonly StorageServiceClient _client;
    private readonly string _queue;
    private readonly QueueMessageEncoding _encoding;
    private readonly ILogger _logger;

    public AzureQueueNotifier(StorageEndpoint endpoint, string queue, QueueMessageEncoding encoding, AzureStorageSettings settings, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(settings);
        _client = new StorageServiceClient("Azure Queue Storage", "Storage Queue Data Contributor", endpoint, settings);
        _queue = queue;
        _encoding = encoding;
        _logger = logger;
    }

    public string Kind => "AzureQueue";

    public string Queue => _queue;

    public Task InitializeAsync(CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var operation = $"creating the queue '{_queue}'";
        using var message = _client.CreateMessage(RequestMethod.Put, _client.UriOf(_queue));
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
        switch (response.Status)
        {
            case 201:
                Log.QueueCreated(_logger, _queue, _client.ServiceUri.ToString());
                return;
            case 204 or 409:
                return; // exists (409 QueueAlreadyExists: with other metadata, which does not matter here)
        }

        var failure = await _client.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false);
        if (failure.Failure == AzureStorageFailure.NotPermitted)
        {
            // A SAS or a role that may add messages need not be allowed to create queues.
            Log.QueueNotCreated(_logger, _queue, failure.Message);
            return;
        }

        throw failure;
    });

    public Task PingAsync(CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var operation = $"reading the queue '{_queue}'";
        using var message = _client.CreateMessage(RequestMethod.Get, _client.UriOf(_queue), "comp=metadata");
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw await _client.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false);
        }
    });

    public Task<string> CheckAsync(CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var operation = $"reading the queue '{_queue}'";
        using var message = _client.CreateMessage(RequestMethod.Get, _client.UriOf(_queue), "comp=metadata");
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            200 => $"queue {_queue} at {_client.ServiceUri}",
            404 => $"queue {_queue} does not exist at {_client.ServiceUri}; the first run creates it",
            _ => throw await _client.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false),
        };
    });

    public Task PublishAsync(MessageEventData data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(data);
        return GuardAsync(async () =>
        {
            var eventId = BlobNaming.EventIdOf(data.Account, data.Uidl, data.Generation);
            var (text, truncated) = CloudEventWriter.ToQueueMessageText(data, _encoding);
            if (truncated)
            {
                Log.EventTruncated(_logger, eventId, Encoding.UTF8.GetByteCount(text));
            }

            var operation = $"Put Message {eventId} to the queue '{_queue}'";
            var body = $"<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessage><MessageText>{text}</MessageText></QueueMessage>";
            // messagettl=-1: the message never expires (version 2017-07-29 and later); consumers may be down for days.
            using var message = _client.CreateMessage(RequestMethod.Post, _client.UriOf($"{_queue}/messages"), "messagettl=-1");
            message.Request.Headers.Add(HttpHeader.Names.ContentType, "application/xml; charset=utf-8");
            message.Request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(body));
            var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
            if (response.Status != 201)
            {
                throw await _client.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false);
            }
        });
    }

    private static async Task<T> GuardAsync<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (AzureStorageException e)
        {
            throw new NotifierException(e.Message, e);
        }
    }

    private static async Task GuardAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (AzureStorageException e)
        {
            throw new NotifierException(e.Message, e);
        }
    }
}
