using System.Runtime.CompilerServices;
using Pop3Ingest.Ingestion.Mailbox.Pop3;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Ingestion.Mailbox.Pop1;

/// <summary>
/// The mailbox port over the POP1 client (RFC 918): connect, USER/PASS, one transaction over the account's named
/// mailbox. Listing opens the transaction (<c>RDEL</c> under DeletePolicy AfterStore, <c>RETR</c> under Never) and
/// lists nothing: the size announced covers the whole mailbox, and a message's identity is known only once it was read.
/// Retrieving asks for the data (<c>RCEV</c>) and hands out the messages as the mbox split finds them. The commit is
/// <c>RCVD</c>, which after <c>RDEL</c> deletes everything read, then <c>QUIT</c>; abandoning aborts the transaction
/// (<c>RSET</c>, or closing the connection in the middle of the data) so that nothing is deleted.
/// </summary>
internal sealed class Pop1MailboxSession : IMailboxSession
{
    private readonly AccountSettings _account;
    private readonly Pop1Client _client;
    private Pop1Mailbox? _data;
    private bool _broken;
    private bool _open;
    private bool _ended;

    public Pop1MailboxSession(AccountSettings account, IPop3Trace? trace)
    {
        if (string.IsNullOrEmpty(account.Mailbox))
        {
            throw new ArgumentException($"Account {account.Name} speaks POP1 and needs a Mailbox.", nameof(account));
        }

        _account = account;
        _client = new Pop1Client(account.Client with { Trace = trace ?? account.Client.Trace });
    }

    public string Protocol => "POP1";

    public MailboxDeletion Deletion => MailboxDeletion.WholeMailbox;

    public bool IsUsable => !_broken && !_ended;

    private bool Delete => _account.DeletePolicy == DeletePolicy.AfterStore;

    public Task OpenAsync(CancellationToken cancellationToken) => Guard(async () =>
    {
        await _client.ConnectAsync(cancellationToken).ConfigureAwait(false);
        var credentials = await Pop3MailboxSession.CredentialsAsync(_account, cancellationToken).ConfigureAwait(false);
        await _client.AuthenticateAsync(credentials, cancellationToken).ConfigureAwait(false);
        return true;
    });

    /// <summary>Opens the transaction; the listing has neither identities nor sizes (RFC 918 announces only the total).</summary>
    public Task<MailboxListing> ListAsync(CancellationToken cancellationToken) => Guard(async () =>
    {
        await _client.OpenAsync(_account.Mailbox!, Delete, cancellationToken).ConfigureAwait(false);
        _open = true;
        return new MailboxListing(null, null);
    });

    public async IAsyncEnumerable<MailboxMessage> RetrieveAsync(IReadOnlyList<MailboxSize>? numbers, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (numbers is not null)
        {
            throw new ArgumentException("POP1 retrieves the whole mailbox: it has no message numbers.", nameof(numbers));
        }

        if (!_open)
        {
            throw new InvalidOperationException("List the mailbox (which opens the POP1 transaction) before retrieving it.");
        }

        _data = await Guard(() => _client.ReceiveAsync(cancellationToken)).ConfigureAwait(false);
        while (await Guard(() => _data.NextMessageAsync(cancellationToken)).ConfigureAwait(false) is { } message)
        {
            yield return new MailboxMessage(message.Number, new TranslatingStream(message, ct => message.CopyToAsync(Stream.Null, ct)), null);
        }
    }

    public Task<IReadOnlyList<MailboxDeleteResult>> MarkDeletedAsync(IReadOnlyList<int> numbers, CancellationToken cancellationToken) =>
        throw new NotSupportedException("POP1 deletes the whole mailbox at commit (RDEL, then RCVD), never one message.");

    /// <summary>
    /// <c>RCVD</c> (after <c>RDEL</c>: the server deletes everything read, or answers -ERR and deletes nothing), then
    /// <c>QUIT</c>. Only called once the whole mailbox was read and every message in it is durable.
    /// </summary>
    public Task<bool> CommitAsync(bool deleteWholeMailbox, CancellationToken cancellationToken) => Guard(async () =>
    {
        if (!deleteWholeMailbox || !Delete || _data is not { IsComplete: true })
        {
            throw new InvalidOperationException("A POP1 commit deletes the whole mailbox: it needs RDEL and every octet of the data read.");
        }

        var committed = await _client.ConfirmAsync(cancellationToken).ConfigureAwait(false);
        _open = false;
        await QuitQuietlyAsync(cancellationToken).ConfigureAwait(false);
        return committed;
    });

    /// <summary>
    /// Ends the session with nothing deleted: after <c>RETR</c> read to its end, <c>RCVD</c> (which deletes nothing there);
    /// after <c>RDEL</c>, or before the data was asked for, <c>RSET</c>; in the middle of the data, closing the connection
    /// (RFC 918: the transaction is aborted). Then <c>QUIT</c>. Errors are ignored: nothing was committed.
    /// </summary>
    public async Task AbandonAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_broken || _ended || _data is { IsComplete: false })
            {
                _ended = true;
                await _client.DisposeAsync().ConfigureAwait(false);
                return;
            }

            if (_open)
            {
                if (!Delete && _data is not null)
                {
                    await _client.ConfirmAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _client.ResetAsync(cancellationToken).ConfigureAwait(false);
                }

                _open = false;
            }

            await QuitQuietlyAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Pop3Exception or InvalidOperationException)
        {
            _ended = true;
            await _client.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>For <c>check</c>: opens the mailbox with <c>RETR</c> (which deletes nothing), reads its size, aborts with <c>RSET</c>.</summary>
    public Task<string> DescribeAsync(CancellationToken cancellationToken) => Guard(async () =>
    {
        var tls = _client.IsEncrypted ? "TLS" : "no TLS";
        var size = await _client.OpenAsync(_account.Mailbox!, delete: false, cancellationToken).ConfigureAwait(false);
        await _client.ResetAsync(cancellationToken).ConfigureAwait(false);
        var policy = Delete ? "RDEL, deleted whole after every message is stored" : "RETR, read whole every run (DeletePolicy Never)";
        return $"{tls}; authenticated; mailbox {_account.Mailbox}: {size} octets; {policy}";
    });

    public ValueTask DisposeAsync() => _client.DisposeAsync();

    private async Task QuitQuietlyAsync(CancellationToken cancellationToken)
    {
        _ended = true;
        try
        {
            await _client.QuitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Pop3Exception)
        {
            // The transaction has ended (RCVD or RSET answered); a lost QUIT changes nothing.
        }
    }

    /// <summary>Runs a client call, translating its errors; any error but a -ERR to a command leaves the session unusable.</summary>
    private async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Pop3Exception e)
        {
            _broken |= e is not Pop3CommandException;
            throw Pop3MailboxSession.Translate(e);
        }
    }
}
