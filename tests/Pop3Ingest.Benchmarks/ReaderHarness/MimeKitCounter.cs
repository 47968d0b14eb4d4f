using MimeKit;

namespace Pop3Ingest.Benchmarks.ReaderHarness;

/// <summary>MimeKit's push-style reader with the callbacks a metadata reader needs: headers parsed, part content counted.</summary>
internal sealed class MimeKitCounter(Stream stream) : MimeReader(stream)
{
    public int Parts { get; private set; }

    public long ContentBytes { get; private set; }

    public static MimeKitCounter Read(byte[] message, CancellationToken cancellationToken)
    {
        using var stream = new ForwardOnlyStream(message);
        var reader = new MimeKitCounter(stream);
        reader.ReadMessage(cancellationToken);
        return reader;
    }

    protected override void OnMimePartBegin(ContentType contentType, long beginOffset, int beginLineNumber, CancellationToken cancellationToken) => Parts++;

    protected override void OnMimePartContentRead(byte[] buffer, int startIndex, int count, CancellationToken cancellationToken) => ContentBytes += count;
}
