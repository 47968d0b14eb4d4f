using System.Runtime.CompilerServices;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Ingestion.Mailbox.Pop3;

/// <summary>
/// The mailbox port over the POP3 client (RFC 1939): connect and authenticate, UIDL and LIST, pipelined RETR, DELE,
/// QUIT. Owns what is POP3's alone: the busy response codes (IN-USE, LOGIN-DELAY) and the translation of the client's
/// errors into <see cref="MailboxException"/>s, also for errors raised while a message's stream is read.
/// </summary>
internal sealed class Pop3MailboxSession(AccountSettings account, IPop3Trace? trace) : IMailboxSession
{
    private readonly Pop3Client _client = new(account.Client with { Trace = trace ?? account.Client.Trace });

    public string Protocol => "POP3";

    public MailboxDeletion Deletion => MailboxDeletion.PerMessage;

    public bool IsUsable => _client.State == Pop3SessionState.Transaction;

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _client.ConnectAsync(cancellationToken).ConfigureAwait(false);
            var credentials = await CredentialsAsync(account, cancellationToken).ConfigureAwait(false);
            await _client.AuthenticateAsync(credentials, account.Auth, cancellationToken).ConfigureAwait(false);
        }
        catch (Pop3Exception e)
        {
            throw Translate(e);
        }
    }

    public async Task<MailboxListing> ListAsync(CancellationToken cancellationToken)
    {
        try
        {
            var (uidls, sizes) = await _client.GetUidlsAndSizesAsync(cancellationToken).ConfigureAwait(false);
            return new MailboxListing([.. uidls.Select(u => new MailboxId(u.Number, u.Uid))], [.. sizes.Select(s => new MailboxSize(s.Number, s.Size))]);
        }
        catch (Pop3CommandException e) when (e.Command == "UIDL")
        {
            try
            {
                var sizes = await _client.ListAsync(cancellationToken).ConfigureAwait(false);
                return new MailboxListing(null, [.. sizes.Select(s => new MailboxSize(s.Number, s.Size))]) { NoIdsReason = e.ServerText };
            }
            catch (Pop3Exception inner)
            {
                throw Translate(inner);
            }
        }
        catch (Pop3Exception e)
        {
            throw Translate(e);
        }
    }

    public async IAsyncEnumerable<MailboxMessage> RetrieveAsync(IReadOnlyList<MailboxSize>? numbers, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(numbers, "POP3 retrieves listed messages");
        var retrievals = _client.RetrieveManyAsync([.. numbers.Select(n => new Pop3ListEntry(n.Number, n.Size))], cancellationToken);
        await using var enumerator = retrievals.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            Pop3Retrieval retrieval;
            try
            {
                if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }

                retrieval = enumerator.Current;
            }
            catch (Pop3Exception e)
            {
                throw Translate(e);
            }

            yield return retrieval.Error is { } refused
                ? new MailboxMessage(retrieval.Number, null, refused.ServerText)
                : new MailboxMessage(retrieval.Number, new TranslatingStream(retrieval.Content!, retrieval.Content!.DrainAsync), null);
        }
    }

    public async Task<IReadOnlyList<MailboxDeleteResult>> MarkDeletedAsync(IReadOnlyList<int> numbers, CancellationToken cancellationToken)
    {
        try
        {
            var results = await _client.DeleteManyAsync(numbers, cancellationToken).ConfigureAwait(false);
            return [.. results.Select(r => new MailboxDeleteResult(r.Number, r.Error?.ServerText))];
        }
        catch (Pop3Exception e)
        {
            throw Translate(e);
        }
    }

    public async Task<bool> CommitAsync(bool deleteWholeMailbox, CancellationToken cancellationToken)
    {
        try
        {
            // RFC 1939 §6: only a +OK to QUIT commits the deletions.
            return await _client.QuitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Pop3Exception e)
        {
            throw Translate(e);
        }
    }

    public async Task AbandonAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Nothing was marked, so QUIT deletes nothing; a lost QUIT changes nothing either.
            await _client.QuitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Pop3Exception)
        {
        }
    }

    public async Task<string> DescribeAsync(CancellationToken cancellationToken)
    {
        try
        {
            var tls = _client.IsEncrypted ? $"TLS (certificate sha256 {_client.ServerCertificateSha256})" : "no TLS";
            var stat = await _client.GetStatAsync(cancellationToken).ConfigureAwait(false);
            var capabilities = _client.Capabilities;
            var uidl = capabilities.Has(Pop3CapabilityFlags.Uidl) ? "UIDL" : account.AllowNoUidl ? "no UIDL (AllowNoUidl)" : "no UIDL: ingestion will refuse this server";
            return $"{tls}; authenticated; {stat.Count} messages, {stat.Size} bytes; capabilities {capabilities.Flags}; {uidl}";
        }
        catch (Pop3Exception e)
        {
            throw Translate(e);
        }
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();

    /// <summary>The account's credentials; a secret that cannot be read now (a file, a token) is a transient authentication failure.</summary>
    internal static async Task<Pop3Credentials> CredentialsAsync(AccountSettings account, CancellationToken cancellationToken)
    {
        try
        {
            return await account.Credentials(cancellationToken).ConfigureAwait(false);
        }
        catch (CredentialsUnavailableException e)
        {
            throw new MailboxException(MailboxFailure.Authentication, e.Message, isTransient: true, e);
        }
    }

    /// <summary>The port's exception for a client error: only the busy response codes are POP3's own here.</summary>
    internal static MailboxException Translate(Pop3Exception e)
    {
        var kind = e switch
        {
            Pop3CommandException { ResponseCode: { } code } when code.Is(Pop3ResponseCode.InUse) || code.Is(Pop3ResponseCode.LoginDelay) => MailboxFailure.Busy,
            Pop3AuthenticationException => MailboxFailure.Authentication,
            Pop3SecurityException => MailboxFailure.Security,
            Pop3ProtocolException => MailboxFailure.Protocol,
            Pop3ConnectionException => MailboxFailure.Connection,
            _ => MailboxFailure.Server,
        };
        var command = e as Pop3CommandException;
        return new MailboxException(kind, e.Message, e.IsTransient, e)
        {
            ServerCode = command?.ResponseCode?.Value,
            ServerText = command?.ServerText,
        };
    }
}
