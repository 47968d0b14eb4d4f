using Microsoft.Extensions.Logging;

namespace Pop3Ingest.Ingestion.Diagnostics;

/// <summary>The log catalogue of the ingestion pipeline (3xxx) and the stores (4xxx), and the POP3 wire trace (1xxx).</summary>
/// <remarks>A UIDL comes from the server: every method that logs one escapes it (<see cref="LogText.Printable"/>).</remarks>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Trace, "{Account} C: {Line}")]
    public static partial void WireSent(ILogger logger, string account, string line);

    [LoggerMessage(1002, LogLevel.Trace, "{Account} S: {Line}")]
    public static partial void WireReceived(ILogger logger, string account, string line);

    [LoggerMessage(3001, LogLevel.Information, "{Account}: run started")]
    public static partial void RunStarted(ILogger logger, string account);

    [LoggerMessage(3002, LogLevel.Information,
        "{Account}: {Messages} stored, {Bytes} bytes in {ElapsedMs} ms ({Rate} msg/s); {Deleted} deleted, {Waiting} waiting, {Failed} failed, {Quarantined} quarantined, {Oversize} oversize, {Duplicates} duplicate UIDLs")]
    public static partial void RunFinished(ILogger logger, string account, int messages, long bytes, long elapsedMs, double rate, int deleted, int waiting, int failed, int quarantined, int oversize, int duplicates);

    [LoggerMessage(3003, LogLevel.Warning, "{Account}: the maildrop is busy ({Code}): {Reason}; this run ends here and the next one tries again")]
    public static partial void MaildropBusy(ILogger logger, string account, string code, string reason);

    [LoggerMessage(3004, LogLevel.Error, "{Account}: run failed ({Kind}): {Reason}")]
    public static partial void RunFailed(ILogger logger, string account, string kind, string reason);

    public static void MessageFailed(ILogger logger, string account, string uidl, int attempts, string reason) =>
        MessageFailedRaw(logger, account, LogText.Printable(uidl), attempts, reason);

    [LoggerMessage(3005, LogLevel.Warning, "{Account}: message {Uidl} failed (attempt {Attempts}): {Reason}")]
    private static partial void MessageFailedRaw(ILogger logger, string account, string uidl, int attempts, string reason);

    public static void MessageQuarantined(ILogger logger, string account, string uidl, int attempts, string reason) =>
        MessageQuarantinedRaw(logger, account, LogText.Printable(uidl), attempts, reason);

    [LoggerMessage(3006, LogLevel.Error, "{Account}: message {Uidl} quarantined after {Attempts} failed attempts; it stays on the server: {Reason}")]
    private static partial void MessageQuarantinedRaw(ILogger logger, string account, string uidl, int attempts, string reason);

    public static void DuplicateUidl(ILogger logger, string account, string uidl) =>
        DuplicateUidlRaw(logger, account, LogText.Printable(uidl));

    [LoggerMessage(3007, LogLevel.Warning, "{Account}: UIDL {Uidl} is listed more than once; those messages are skipped (neither stored nor deleted)")]
    private static partial void DuplicateUidlRaw(ILogger logger, string account, string uidl);

    public static void MessageOversize(ILogger logger, string account, string uidl, long bytes) =>
        MessageOversizeRaw(logger, account, LogText.Printable(uidl), bytes);

    [LoggerMessage(3008, LogLevel.Warning, "{Account}: message {Uidl} has {Bytes} bytes, more than MaxMessageBytes; it stays on the server (Oversize)")]
    private static partial void MessageOversizeRaw(ILogger logger, string account, string uidl, long bytes);

    [LoggerMessage(3009, LogLevel.Warning, "{Account}: QUIT was refused ({Reason}); no deletion was committed, {Count} messages will be deleted next run")]
    public static partial void QuitRefused(ILogger logger, string account, string reason, int count);

    [LoggerMessage(3010, LogLevel.Warning, "{Account}: {BlobName} already existed; the stored copy is kept (sha256 {Sha256}); the new download differs ({NewSha256})")]
    public static partial void ExistingBlobDiffers(ILogger logger, string account, string blobName, string sha256, string newSha256);

    [LoggerMessage(3011, LogLevel.Information, "{Account}: {BlobName} already existed and matches; recorded as stored")]
    public static partial void ExistingBlobKept(ILogger logger, string account, string blobName);

    public static void DeleteRefused(ILogger logger, string account, string uidl, string reason) =>
        DeleteRefusedRaw(logger, account, LogText.Printable(uidl), reason);

    [LoggerMessage(3012, LogLevel.Warning, "{Account}: DELE of {Uidl} refused: {Reason}")]
    private static partial void DeleteRefusedRaw(ILogger logger, string account, string uidl, string reason);

    public static void MessageStored(ILogger logger, string account, string uidl, string blobName, long bytes) =>
        MessageStoredRaw(logger, account, LogText.Printable(uidl), blobName, bytes);

    [LoggerMessage(3013, LogLevel.Debug, "{Account}: stored {Uidl} as {BlobName} ({Bytes} bytes)")]
    private static partial void MessageStoredRaw(ILogger logger, string account, string uidl, string blobName, long bytes);

    [LoggerMessage(3014, LogLevel.Information, "{Account}: {Count} vanished messages marked deleted")]
    public static partial void Vanished(ILogger logger, string account, int count);

    [LoggerMessage(3015, LogLevel.Warning, "{Account}: limits reached ({Limit}); {Count} messages wait for the next run")]
    public static partial void LimitReached(ILogger logger, string account, string limit, int count);

    [LoggerMessage(3016, LogLevel.Information, "{Account}: pruned {Count} deleted ledger rows")]
    public static partial void Pruned(ILogger logger, string account, int count);

    [LoggerMessage(3017, LogLevel.Warning, "{Account}: the session was interrupted by shutdown; committed work is kept")]
    public static partial void RunCancelled(ILogger logger, string account);

    public static void DeletedMessageKept(ILogger logger, string account, string uidl) =>
        DeletedMessageKeptRaw(logger, account, LogText.Printable(uidl));

    [LoggerMessage(3018, LogLevel.Warning,
        "{Account}: the server still lists {Uidl}, deleted after a committed QUIT, with the same content; it is deleted again, not stored twice")]
    private static partial void DeletedMessageKeptRaw(ILogger logger, string account, string uidl);

    public static void ListSizeChanged(ILogger logger, string account, string uidl, long bytes) =>
        ListSizeChangedRaw(logger, account, LogText.Printable(uidl), bytes);

    [LoggerMessage(3019, LogLevel.Information,
        "{Account}: {Uidl} is listed with {Bytes} bytes, another size than when it was stored, and its content is the one stored; nothing is stored again")]
    private static partial void ListSizeChangedRaw(ILogger logger, string account, string uidl, long bytes);

    public static void UidlReused(ILogger logger, string account, string uidl, int generation, int newGeneration) =>
        UidlReusedRaw(logger, account, LogText.Printable(uidl), generation, newGeneration);

    [LoggerMessage(3020, LogLevel.Warning,
        "{Account}: {Uidl} now names another message than the one stored under it (generation {Generation}); it is stored as generation {NewGeneration}")]
    private static partial void UidlReusedRaw(ILogger logger, string account, string uidl, int generation, int newGeneration);

    public static void CheckFailed(ILogger logger, string account, string uidl, string reason) =>
        CheckFailedRaw(logger, account, LogText.Printable(uidl), reason);

    [LoggerMessage(3021, LogLevel.Warning, "{Account}: {Uidl} could not be checked against the stored message ({Reason}); it stays on the server")]
    private static partial void CheckFailedRaw(ILogger logger, string account, string uidl, string reason);

    public static void StoreFailed(ILogger logger, string account, string uidl, string reason) =>
        StoreFailedRaw(logger, account, LogText.Printable(uidl), reason);

    [LoggerMessage(3022, LogLevel.Warning,
        "{Account}: the ledger has no rows for this account, but the store already holds its messages ({BlobName}, for one); if the ledger was lost, " +
        "they are stored again under new names: stop the worker and run 'ledger rebuild --account {Account}'")]
    public static partial void LedgerEmptyStoreNot(ILogger logger, string account, string blobName);

    [LoggerMessage(3023, LogLevel.Debug, "{Account}: the store could not be listed to compare it with an empty ledger: {Reason}")]
    public static partial void StoreNotListed(ILogger logger, string account, string reason);

    [LoggerMessage(4001, LogLevel.Error, "{Account}: the store failed for {Uidl}: {Reason}")]
    private static partial void StoreFailedRaw(ILogger logger, string account, string uidl, string reason);

    public static void NotifyFailed(ILogger logger, string account, string uidl, string reason) =>
        NotifyFailedRaw(logger, account, LogText.Printable(uidl), reason);

    [LoggerMessage(4002, LogLevel.Error, "{Account}: the queue failed for {Uidl}: {Reason}; the message stays on the server and is announced next run")]
    private static partial void NotifyFailedRaw(ILogger logger, string account, string uidl, string reason);

    [LoggerMessage(4003, LogLevel.Information, "Created the blob container {Container} at {Endpoint}")]
    public static partial void ContainerCreated(ILogger logger, string container, string endpoint);

    [LoggerMessage(4004, LogLevel.Warning, "Cannot create the blob container {Container}; assuming it exists: {Reason}")]
    public static partial void ContainerNotCreated(ILogger logger, string container, string reason);

    [LoggerMessage(4005, LogLevel.Information, "{BlobName} already existed ({ExistingBytes} bytes); it is kept and the new upload ({Bytes} bytes) discarded")]
    public static partial void BlobAlreadyExists(ILogger logger, string blobName, long bytes, long existingBytes);

    [LoggerMessage(4011, LogLevel.Information, "Created the queue {Queue} at {Endpoint}")]
    public static partial void QueueCreated(ILogger logger, string queue, string endpoint);

    [LoggerMessage(4012, LogLevel.Warning, "Cannot create the queue {Queue}; assuming it exists: {Reason}")]
    public static partial void QueueNotCreated(ILogger logger, string queue, string reason);

    [LoggerMessage(4013, LogLevel.Warning, "The event {EventId} was cut to fit a queue message ({Bytes} bytes encoded); data.truncated is true")]
    public static partial void EventTruncated(ILogger logger, string eventId, int bytes);
}
