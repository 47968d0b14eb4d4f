using Microsoft.Data.Sqlite;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Mailbox;
using Pop3Ingest.Ingestion.Mailbox.Pop3;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Ingestion.Tests;

/// <summary>The one classifier the run and every verb ask, and the POP3 adapter's translation into mailbox failures.</summary>
public sealed class FailureClassifierTests
{
    public static TheoryData<Exception, FailureKind?, bool> Cases => new()
    {
        { new MailboxException(MailboxFailure.Connection, "dropped", isTransient: true), FailureKind.Connection, true },
        { new MailboxException(MailboxFailure.Protocol, "garbage", isTransient: true), FailureKind.Protocol, true },
        { new MailboxException(MailboxFailure.Authentication, "refused", isTransient: false), FailureKind.Authentication, false },
        { new MailboxException(MailboxFailure.Security, "tls", isTransient: false), FailureKind.Security, false },
        { new MailboxException(MailboxFailure.Busy, "in use", isTransient: true), FailureKind.Busy, true },
        { new MailboxException(MailboxFailure.Server, "-ERR", isTransient: false), FailureKind.Server, false },
        { new CredentialsUnavailableException("no file"), FailureKind.Authentication, true },
        { new StoreException("down"), FailureKind.Store, true },
        { new StoreException("forbidden", isTransient: false), FailureKind.Store, false },
        { new NotifierException("down"), FailureKind.Queue, true },
        { new NotifierException("no such queue", isTransient: false), FailureKind.Queue, false },
        { new LedgerSchemaException("newer"), FailureKind.Ledger, false },
        { new SqliteException("no such table", 1), FailureKind.Ledger, false },
        { new InvalidOperationException("a bug"), null, false },
        { new OperationCanceledException(), null, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_failure_has_one_kind(Exception exception, FailureKind? kind, bool transient)
    {
        Assert.Equal(kind, FailureClassifier.Classify(exception));
        Assert.Equal(transient, FailureClassifier.IsTransient(exception));
        Assert.Equal(kind is not null, FailureClassifier.IsExpected(exception));
    }

    [Fact]
    public void A_cancellation_is_expected_only_when_the_run_asked_for_it()
    {
        using var abort = new CancellationTokenSource();
        Assert.Null(FailureClassifier.Classify(new OperationCanceledException(), abort.Token));
        abort.Cancel();
        Assert.Equal(FailureKind.Cancelled, FailureClassifier.Classify(new OperationCanceledException(), abort.Token));
    }

    [Fact]
    public void The_file_system_refusing_is_expected_of_a_verb_but_is_no_run_failure_kind()
    {
        Assert.True(FailureClassifier.IsExpected(new IOException("disk")));
        Assert.True(FailureClassifier.IsExpected(new UnauthorizedAccessException("mode")));
        Assert.Null(FailureClassifier.Classify(new IOException("disk")));
    }

    [Theory]
    [InlineData("IN-USE", MailboxFailure.Busy, true)]
    [InlineData("LOGIN-DELAY", MailboxFailure.Busy, true)]
    [InlineData("SYS/TEMP", MailboxFailure.Server, true)]
    [InlineData("SYS/PERM", MailboxFailure.Server, false)]
    public void The_pop3_adapter_owns_the_busy_codes(string code, MailboxFailure kind, bool transient)
    {
        var translated = Pop3MailboxSession.Translate(new Pop3CommandException("PASS", "maildrop says no", new Pop3ResponseCode(code)));
        Assert.Equal(kind, translated.Kind);
        Assert.Equal(transient, translated.IsTransient);
        Assert.Equal(code, translated.ServerCode);
        Assert.Equal("maildrop says no", translated.ServerText);
        Assert.Contains("maildrop says no", translated.Message, StringComparison.Ordinal);
    }
}
