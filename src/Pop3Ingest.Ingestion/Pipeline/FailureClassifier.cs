using System.Data.Common;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Mailbox;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Storage;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// The one place that decides what a failure means: which exceptions are expected (a server, a store, a queue or a
/// ledger that failed: logged in one line, the run or the verb fails, nothing is lost) and of what kind, and which are
/// not (a bug: they escape, with their stack trace). The run and every CLI verb ask it.
/// </summary>
public static class FailureClassifier
{
    /// <summary>
    /// The kind of an expected failure, or null for an unexpected one. A cancellation is expected only when
    /// <paramref name="abort"/> asked for it.
    /// </summary>
    public static FailureKind? Classify(Exception exception, CancellationToken abort = default) => exception switch
    {
        MailboxException m => m.Kind switch
        {
            MailboxFailure.Authentication => FailureKind.Authentication,
            MailboxFailure.Security => FailureKind.Security,
            MailboxFailure.Protocol => FailureKind.Protocol,
            MailboxFailure.Connection => FailureKind.Connection,
            MailboxFailure.Busy => FailureKind.Busy,
            _ => FailureKind.Server,
        },
        CredentialsUnavailableException => FailureKind.Authentication,
        StoreException => FailureKind.Store,
        NotifierException => FailureKind.Queue,
        LedgerSchemaException or DbException => FailureKind.Ledger,
        OperationCanceledException when abort.IsCancellationRequested => FailureKind.Cancelled,
        _ => null,
    };

    /// <summary>
    /// Whether a verb that prepares or reads the ledger, the store, the queue or a file should report the failure in one
    /// line rather than crash: an expected failure of any kind, or the file system refusing (a folder that cannot be
    /// created, a file that cannot be read).
    /// </summary>
    public static bool IsExpected(Exception exception, CancellationToken abort = default) =>
        Classify(exception, abort) is not null || exception is IOException or UnauthorizedAccessException;

    /// <summary>Whether trying again later may succeed (a drop, a busy maildrop, a store or queue outage); false for bugs.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        MailboxException m => m.IsTransient,
        StoreException s => s.IsTransient,
        NotifierException n => n.IsTransient,
        CredentialsUnavailableException => true,
        DbException d => d.IsTransient,
        IOException => true,
        _ => false,
    };
}
