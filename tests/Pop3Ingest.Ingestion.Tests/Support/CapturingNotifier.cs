using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Notifications;

namespace Pop3Ingest.Ingestion.Tests.Support;

/// <summary>A notifier that keeps what it was given, or fails like a queue that is down while <see cref="Down"/> is set.</summary>
internal sealed class CapturingNotifier : INotifier
{
    public List<MessageEventData> Published { get; } = [];

    public bool Down { get; set; }

    public string Kind => "Capturing";

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<string> CheckAsync(CancellationToken cancellationToken) => Task.FromResult("captured in memory");

    public Task PublishAsync(MessageEventData data, CancellationToken cancellationToken)
    {
        if (Down)
        {
            throw new NotifierException("injected: the queue is down");
        }

        lock (Published)
        {
            Published.Add(data);
        }

        return Task.CompletedTask;
    }
}
