using Pop3Ingest.Mime;

namespace Pop3Ingest.Ingestion.Events;

/// <summary>
/// What consumers learn about a stored message: the sidecar's content and the CloudEvent's <c>data</c>
/// (README.md, "What lands in the store", and Events/message-stored.schema.json).
/// </summary>
public sealed record MessageEventData
{
    public required string Account { get; init; }

    public required string Uidl { get; init; }

    /// <summary>
    /// 0, or how many other messages this UIDL named before this one (a UIDL reused after its message was deleted): part
    /// of the event id and the blob name, not of <c>data</c>.
    /// </summary>
    public int Generation { get; init; }

    /// <summary>A URL (Azure) or a path relative to the store root (folder store).</summary>
    public required string Blob { get; init; }

    /// <summary>The blob path (<c>{account}/{yyyy}/{MM}/{dd}/{id}.eml</c>): the CloudEvent's <c>subject</c>; not part of <c>data</c>.</summary>
    public required string BlobName { get; init; }

    public required long Size { get; init; }

    public required string Sha256 { get; init; }

    public required DateTimeOffset Stored { get; init; }

    public MessageMetadata? Metadata { get; init; }
}
