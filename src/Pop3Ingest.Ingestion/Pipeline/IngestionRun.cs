using System.Data.Common;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Mime;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// One run of one account, as explicit steps: connect, list, plan, fetch (write-ahead Pending row, stream RETR
/// into the store, group commit Stored, notify), delete (DELE only what the ledger holds as stored, and Deleted
/// only after +OK to QUIT). Any failure stops what depends on it and nothing else; the next run recovers.
/// </summary>
internal sealed class IngestionRun
{
    private readonly AccountSettings _account;
    private readonly ILedger _ledger;
    private readonly IMessageStore _store;
    private readonly INotifier? _notifier;
    private readonly IngestionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly CancellationToken _abort;
    private readonly List<Committed> _batch = [];
    private readonly List<(int Number, string Uidl)> _deletable = [];
    private readonly Stopwatch _batchAge = new();
    private (Task Flush, List<Committed> Batch)? _flushing;
    private FailureKind _failure = FailureKind.None;
    private string? _error;
    private bool _storeDown;
    private bool _queueDown;
    private int _listed;
    private int _stored;
    private long _bytes;
    private int _already;
    private int _notified;
    private int _deleted;
    private int _failed;
    private int _quarantined;
    private int _oversize;
    private int _duplicates;
    private int _waiting;

    public IngestionRun(AccountSettings account, ILedger ledger, IMessageStore store, INotifier? notifier, IngestionOptions options,
        TimeProvider time, ILogger logger, CancellationToken stopping, CancellationToken abort)
    {
        _account = account;
        _ledger = ledger;
        _store = store;
        _notifier = notifier;
        _options = options;
        _time = time;
        _logger = logger;
        _stopping = stopping;
        _abort = abort;
    }

    private int _planned;

    /// <summary>Receives progress (plan size, then each stored message); may be null.</summary>
    public Action<RunProgress>? Progress { get; init; }

    /// <summary>
    /// Completes once the ledger and the store may be used, or faults with the reason they could not be prepared. The
    /// session is opened and the mailbox listed meanwhile; null: ready now.
    /// </summary>
    public Task? Ready { get; init; }

    private DateTimeOffset Now => _time.GetUtcNow();

    private void ReportProgress() => Progress?.Invoke(new RunProgress(_account.Name, _stored + _already, _planned, _bytes));

    public async Task<RunResult> ExecuteAsync()
    {
        var started = Now;
        var watch = Stopwatch.StartNew();
        var clientOptions = _account.Client with { Trace = new LoggerPop3Trace(_logger, _account.Name) };
        await using var client = new Pop3Client(clientOptions);
        try
        {
            // The connection is opened first and the log line written while the server prepares its greeting: the
            // first line costs milliseconds of formatting set-up that would otherwise delay every run's first command.
            var connecting = client.ConnectAsync(_abort);
            Log.RunStarted(_logger, _account.Name);
            await connecting.ConfigureAwait(false);
            var credentials = await _account.Credentials(_abort).ConfigureAwait(false);
            await client.AuthenticateAsync(credentials, _account.Auth, _abort).ConfigureAwait(false);
            await IngestAsync(client).ConfigureAwait(false);
        }
        catch (Pop3CommandException e) when (e.ResponseCode is { } code &&
                                             (code.Is(Pop3ResponseCode.InUse) || code.Is(Pop3ResponseCode.LoginDelay)))
        {
            Log.MaildropBusy(_logger, _account.Name, code.Value, e.ServerText);
            return Finish(started, watch, RunOutcome.Busy, FailureKind.Busy, e.Message);
        }
        catch (Exception e) when (Classify(e) is { } kind)
        {
            Fail(kind, e.Message);
        }

        var outcome = _failure == FailureKind.None ? RunOutcome.Succeeded : RunOutcome.Failed;
        if (outcome == RunOutcome.Failed)
        {
            Log.RunFailed(_logger, _account.Name, _failure.ToString(), _error ?? "unknown");
        }

        return Finish(started, watch, outcome, _failure, _error);
    }

    private async Task IngestAsync(Pop3Client client)
    {
        IReadOnlyList<Pop3UidlEntry> uidls;
        IReadOnlyList<Pop3ListEntry> sizes;
        try
        {
            (uidls, sizes) = await client.GetUidlsAndSizesAsync(_abort).ConfigureAwait(false);
        }
        catch (Pop3CommandException e) when (e.Command == "UIDL")
        {
            if (!await ReadyAsync(client).ConfigureAwait(false))
            {
                return;
            }

            if (!_account.AllowNoUidl)
            {
                Fail(FailureKind.NoUidl,
                    $"The server does not support UIDL ({e.ServerText}), so messages cannot be tracked safely. " +
                    "Set AllowNoUidl (with DeletePolicy AfterStore) to identify messages by content instead.");
                await QuitQuietlyAsync(client).ConfigureAwait(false);
                return;
            }

            await NoUidlRun.ExecuteAsync(this, client).ConfigureAwait(false);
            return;
        }

        if (!await ReadyAsync(client).ConfigureAwait(false))
        {
            return;
        }

        var rows = await _ledger.GetAccountAsync(_account.Name, _abort).ConfigureAwait(false);
        var plan = MailboxPlan.Create(_account, uidls, sizes, rows, _notifier is not null, Now);
        if (rows.Count == 0 && plan.Fetch.Count > 0)
        {
            await WarnIfStoreHoldsAccountAsync().ConfigureAwait(false);
        }

        _listed = plan.Listed;
        _waiting = plan.Waiting + plan.Deferred;
        _quarantined = plan.Quarantined;
        _oversize = plan.Oversize;
        _duplicates = plan.Duplicates.Count;
        foreach (var duplicate in plan.Duplicates)
        {
            Log.DuplicateUidl(_logger, _account.Name, duplicate);
        }

        foreach (var row in plan.NewOversize)
        {
            Log.MessageOversize(_logger, _account.Name, row.Uidl, row.Size ?? 0);
        }

        if (plan.Deferred > 0)
        {
            Log.LimitReached(_logger, _account.Name, plan.DeferredBy!, plan.Deferred);
        }

        if (plan.Vanished.Count > 0)
        {
            await _ledger.MarkDeletedAsync(_account.Name, plan.Vanished, Now, _abort).ConfigureAwait(false);
            Log.Vanished(_logger, _account.Name, plan.Vanished.Count);
        }

        await _ledger.ForgetAsync(_account.Name, plan.VanishedTerminal, _abort).ConfigureAwait(false);

        // Before any row is written or any DELE planned: UIDLs that may name another message than the one stored.
        var check = await ReusedUidlCheck.RunAsync(client, plan.Check, _account, _ledger, _notifier is not null, Now, _logger, _abort).ConfigureAwait(false);
        _deletable.AddRange(check.Deletable);
        _waiting += check.Waiting;
        _oversize += check.NewOversize.Count;
        plan.NewOversize.AddRange(check.NewOversize);
        plan.Fetch.AddRange(check.NewGenerations);

        // Write-ahead: every blob name is in the ledger before its download starts.
        var pending = PendingRows.Write(this, plan);
        _planned = plan.Fetch.Count;
        ReportProgress();
        bool sessionUsable;
        try
        {
            sessionUsable = await FetchAsync(client, plan.Fetch, pending).ConfigureAwait(false);
        }
        finally
        {
            await pending.All.ConfigureAwait(false);
        }

        await CommitBatchAsync().ConfigureAwait(false);
        if (_notifier is not null && !_queueDown && !_storeDown && !_stopping.IsCancellationRequested)
        {
            await NotifyBacklogAsync(plan.Notify).ConfigureAwait(false);
        }

        foreach (var item in plan.Delete)
        {
            _deletable.Add((item.Number, item.Row.Uidl));
        }

        if (sessionUsable)
        {
            await DeleteAndQuitAsync(client).ConfigureAwait(false);
        }

        var pruned = await _ledger.PruneAsync(Now - _options.PruneAfter, _abort).ConfigureAwait(false);
        if (pruned > 0)
        {
            Log.Pruned(_logger, _account.Name, pruned);
        }
    }

    /// <summary>
    /// Waits until the ledger and the store are prepared (<see cref="Ready"/>); if they could not be, ends the session
    /// with QUIT before anything was read, stored or deleted, and fails the run with the reason (a ledger or store failure).
    /// </summary>
    private async Task<bool> ReadyAsync(Pop3Client client)
    {
        if (Ready is null)
        {
            return true;
        }

        try
        {
            await Ready.WaitAsync(_abort).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (Classify(e) is { } kind && !_abort.IsCancellationRequested)
        {
            Fail(kind, $"The {(kind == FailureKind.Ledger ? "ledger" : "store")} could not be prepared, so nothing was fetched: {e.Message}");
            await QuitQuietlyAsync(client).ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>Downloads and stores; false when the POP3 session is no longer usable.</summary>
    private async Task<bool> FetchAsync(Pop3Client client, List<FetchItem> fetch, PendingRows pending)
    {
        if (fetch.Count == 0)
        {
            return true;
        }

        var byNumber = fetch.ToDictionary(f => f.Number);
        FetchItem? current = null;
        var position = 0;
        try
        {
            await foreach (var retrieval in client.RetrieveManyAsync([.. fetch.Select(f => new Pop3ListEntry(f.Number, f.Size))], _abort).ConfigureAwait(false))
            {
                await pending.Before(position++).ConfigureAwait(false);
                current = byNumber[retrieval.Number];
                if (retrieval.Error is { } refused)
                {
                    await RecordFailureAsync(current, $"RETR refused: {refused.ServerText}", _options.MaxAttempts).ConfigureAwait(false);
                }
                else
                {
                    await StoreOneAsync(current, retrieval.Content!).ConfigureAwait(false);
                }

                current = null;
                if (_storeDown || _stopping.IsCancellationRequested)
                {
                    if (_stopping.IsCancellationRequested)
                    {
                        Log.RunCancelled(_logger, _account.Name);
                    }

                    break;
                }

                if (_batch.Count >= _options.GroupCommitSize || (_batch.Count > 0 && _batchAge.Elapsed >= _options.GroupCommitInterval))
                {
                    await CommitBatchAsync(overlap: true).ConfigureAwait(false);
                }
            }

            return client.State == Pop3SessionState.Transaction;
        }
        catch (Exception e) when (e is Pop3Exception or OperationCanceledException)
        {
            if (current is not null && e is Pop3Exception)
            {
                await RecordFailureAsync(current, e.Message, _options.MaxAttempts).ConfigureAwait(false);
            }

            Fail(Classify(e) ?? FailureKind.Connection, e.Message);
            return false;
        }
    }

    private async Task StoreOneAsync(FetchItem item, Pop3MessageStream content)
    {
        // The metadata goes to the sidecar and the event; with neither, reading it would be work for nobody.
        var reader = _options.Sidecar || _notifier is not null ? new MessageMetadataReader() : null;
        using var tap = new MessageTap(content, _account.MaxMessageBytes, reader);
        PutResult put;
        try
        {
            put = await _store.PutAsync(item.BlobName, tap, new BlobProperties(_account.Name, BlobNaming.IdOf(item.Uidl, item.Generation)),
                _options.Sidecar ? result => EventDataWriter.ToJson(EventData(item, tap, result)) : null, _abort).ConfigureAwait(false);
        }
        catch (MessageTooLargeException e)
        {
            await content.DrainAsync(_abort).ConfigureAwait(false);
            _oversize++;
            await RecordFailureAsync(item, e.Message, maxAttempts: 1).ConfigureAwait(false);
            return;
        }
        catch (StoreException e)
        {
            // Keep the session in step so that what is already stored can still be deleted.
            if (!content.IsCompleted)
            {
                await content.DrainAsync(_abort).ConfigureAwait(false);
            }

            Log.StoreFailed(_logger, _account.Name, item.Uidl, e.Message);
            await RecordFailureAsync(item, e.Message, _options.MaxAttempts).ConfigureAwait(false);
            _storeDown = true;
            Fail(FailureKind.Store, e.Message);
            return;
        }

        if (!tap.Ended)
        {
            await tap.CopyToAsync(Stream.Null, _abort).ConfigureAwait(false);
        }

        var sha256 = tap.Sha256;
        var size = tap.BytesRead;
        if (put.Created)
        {
            _stored++;
            _bytes += size;
            Log.MessageStored(_logger, _account.Name, item.Uidl, item.BlobName, size);
        }
        else
        {
            _already++;
            if (!string.Equals(put.ExistingSha256, sha256, StringComparison.Ordinal))
            {
                Log.ExistingBlobDiffers(_logger, _account.Name, item.BlobName, put.ExistingSha256 ?? "?", sha256);
            }
            else
            {
                Log.ExistingBlobKept(_logger, _account.Name, item.BlobName);
            }

            sha256 = put.ExistingSha256 ?? sha256;
            size = put.ExistingSize ?? size;
        }

        if (_batch.Count == 0)
        {
            _batchAge.Restart();
        }

        _batch.Add(new Committed(item.Number, item.Uidl, item.BlobName, size, sha256, tap.Metadata, item));
        ReportProgress();
    }

    private MessageEventData EventData(FetchItem item, MessageTap tap, PutResult put) => new()
    {
        Account = _account.Name,
        Uidl = item.Uidl,
        Generation = item.Generation,
        Blob = _store.LocationOf(item.BlobName),
        BlobName = item.BlobName,
        Size = put.Created ? tap.BytesRead : put.ExistingSize ?? tap.BytesRead,
        Sha256 = put.Created ? tap.Sha256 : put.ExistingSha256 ?? tap.Sha256,
        Stored = Now,
        Metadata = tap.Metadata,
    };

    /// <summary>
    /// Group commit: make the batch durable in the store, record it in one transaction, then announce it. With
    /// <paramref name="overlap"/>, a store flush that does not finish at once (the folder store's sync and renames)
    /// goes on in the background while the next messages stream in, and its recording waits for the next commit
    /// point; otherwise everything put so far is committed when it returns.
    /// </summary>
    private async Task CommitBatchAsync(bool overlap = false)
    {
        if (_flushing is { } previous)
        {
            _flushing = null;
            await RecordBatchAsync(previous.Flush, previous.Batch).ConfigureAwait(false);
        }

        if (_batch.Count == 0)
        {
            return;
        }

        var batch = _batch.ToList();
        _batch.Clear();
        var flush = _store.FlushAsync(_account.Name, _abort);
        if (overlap && !flush.IsCompleted)
        {
            // A store whose commit takes time (the folder store's sync and renames) finishes it in the background.
            _flushing = (flush, batch);
            return;
        }

        await RecordBatchAsync(flush, batch).ConfigureAwait(false);
    }

    private async Task RecordBatchAsync(Task flush, List<Committed> batch)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (StoreException e)
        {
            _storeDown = true;
            Fail(FailureKind.Store, e.Message);
            return;
        }

        var at = Now;
        await _ledger.MarkStoredAsync(_account.Name, [.. batch.Select(c => new StoredMessage(c.Uidl, c.Size, c.Sha256))], at, _abort).ConfigureAwait(false);
        var announced = new List<Committed>(batch.Count);
        if (_notifier is null)
        {
            announced.AddRange(batch);
        }
        else
        {
            foreach (var committed in batch)
            {
                if (_queueDown)
                {
                    break;
                }

                if (await PublishAsync(committed.Uidl, new MessageEventData
                {
                    Account = _account.Name,
                    Uidl = committed.Uidl,
                    Generation = committed.Item.Generation,
                    Blob = _store.LocationOf(committed.BlobName),
                    BlobName = committed.BlobName,
                    Size = committed.Size,
                    Sha256 = committed.Sha256,
                    Stored = at,
                    Metadata = committed.Metadata,
                }).ConfigureAwait(false))
                {
                    announced.Add(committed);
                }
            }

            await _ledger.MarkNotifiedAsync(_account.Name, [.. announced.Select(c => c.Uidl)], Now, _abort).ConfigureAwait(false);
            _notified += announced.Count;
        }

        var row = new LedgerRow { Account = _account.Name, Uidl = string.Empty, BlobName = string.Empty, State = LedgerState.Stored, FirstSeen = at, StoredAt = at };
        if (MailboxPlan.MayDelete(_account, row, at))
        {
            _deletable.AddRange(announced.Select(c => (c.Number, c.Uidl)));
        }
        else
        {
            _waiting += announced.Count;
        }
    }

    private async Task<bool> PublishAsync(string uidl, MessageEventData data)
    {
        try
        {
            await _notifier!.PublishAsync(data, _abort).ConfigureAwait(false);
            return true;
        }
        catch (NotifierException e)
        {
            Log.NotifyFailed(_logger, _account.Name, uidl, e.Message);
            _queueDown = true;
            Fail(FailureKind.Queue, e.Message);
            return false;
        }
    }

    /// <summary>Messages stored by an earlier run but not announced (the queue was down): announce without downloading.</summary>
    private async Task NotifyBacklogAsync(List<ServerItem> backlog)
    {
        foreach (var item in backlog)
        {
            if (_queueDown || _stopping.IsCancellationRequested)
            {
                return;
            }

            var metadata = await ReadStoredMetadataAsync(item.Row.BlobName).ConfigureAwait(false);
            var published = await PublishAsync(item.Row.Uidl, new MessageEventData
            {
                Account = _account.Name,
                Uidl = item.Row.Uidl,
                Generation = item.Row.Generation,
                Blob = _store.LocationOf(item.Row.BlobName),
                BlobName = item.Row.BlobName,
                Size = item.Row.Size ?? 0,
                Sha256 = item.Row.Sha256 ?? string.Empty,
                Stored = item.Row.StoredAt ?? Now,
                Metadata = metadata,
            }).ConfigureAwait(false);
            if (!published)
            {
                return;
            }

            await _ledger.MarkNotifiedAsync(_account.Name, [item.Row.Uidl], Now, _abort).ConfigureAwait(false);
            _notified++;
            if (item.MayDelete && MailboxPlan.MayDelete(_account, item.Row, Now))
            {
                _deletable.Add((item.Number, item.Row.Uidl));
            }
            else
            {
                _waiting++;
            }
        }
    }

    /// <summary>Reads the headers back from the store (not from the server) to rebuild an event.</summary>
    private async Task<MessageMetadata?> ReadStoredMetadataAsync(string blobName)
    {
        try
        {
            await using var stream = await _store.OpenReadAsync(blobName, _abort).ConfigureAwait(false);
            if (stream is null)
            {
                return null;
            }

            var reader = new MessageMetadataReader();
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, _abort).ConfigureAwait(false)) > 0)
            {
                reader.Write(buffer.AsSpan(0, read));
            }

            return reader.Complete();
        }
        catch (Exception e) when (e is StoreException or IOException)
        {
            return new MessageMetadata { Problems = [$"metadata could not be read back from the store: {e.Message}"] };
        }
    }

    /// <summary>DELE what the ledger holds as stored (and announced), then QUIT; Deleted only after +OK.</summary>
    internal async Task DeleteAndQuitAsync(Pop3Client client)
    {
        var marked = new List<string>();
        try
        {
            if (_deletable.Count > 0)
            {
                var byNumber = _deletable.GroupBy(d => d.Number).ToDictionary(g => g.Key, g => g.First().Uidl);
                var results = await client.DeleteManyAsync([.. byNumber.Keys.Order()], _abort).ConfigureAwait(false);
                foreach (var result in results)
                {
                    if (result.Marked)
                    {
                        marked.Add(byNumber[result.Number]);
                    }
                    else
                    {
                        Log.DeleteRefused(_logger, _account.Name, byNumber[result.Number], result.Error!.ServerText);
                    }
                }
            }

            // RFC 1939 §6: only a +OK to QUIT commits the deletions.
            var committed = await client.QuitAsync(_abort).ConfigureAwait(false);
            if (!committed)
            {
                Log.QuitRefused(_logger, _account.Name, "-ERR", marked.Count);
                _waiting += marked.Count;
                if (marked.Count > 0)
                {
                    Fail(FailureKind.Server, "The server refused QUIT; no deletion was committed.");
                }

                return;
            }
        }
        catch (Pop3Exception e)
        {
            Fail(Classify(e) ?? FailureKind.Connection, e.Message);
            _waiting += marked.Count;
            return;
        }

        await _ledger.MarkDeletedAsync(_account.Name, marked, Now, _abort).ConfigureAwait(false);
        _deleted += marked.Count;
    }

    /// <summary>
    /// The write-ahead Pending rows of a run's new messages, written in the background while the first RETR commands
    /// go out: the rows of the first <see cref="HeadRows"/> new messages (and of the new oversize ones) in one small
    /// transaction, then the rest in another. A message is stored only once its row is committed (<see cref="Before"/>),
    /// so the write-ahead order holds, and the first message waits for a few rows rather than for all of them (5,000
    /// rows take about 45 ms in SQLite, during which the server's answers only piled up).
    /// </summary>
    private sealed class PendingRows
    {
        private const int HeadRows = 64;
        private readonly Task _head;
        private readonly int _headCovers;

        private PendingRows(Task head, int headCovers, Task all)
        {
            _head = head;
            _headCovers = headCovers;
            All = all;
        }

        /// <summary>Completes when every row is committed.</summary>
        public Task All { get; }

        public static PendingRows Write(IngestionRun run, MailboxPlan plan)
        {
            var head = new List<LedgerRow>(plan.NewOversize);
            var rest = new List<LedgerRow>();
            var headCovers = plan.Fetch.Count;
            for (var i = 0; i < plan.Fetch.Count; i++)
            {
                var item = plan.Fetch[i];
                if (!item.IsNew)
                {
                    continue; // its row exists from an earlier run
                }

                var row = new LedgerRow
                {
                    Account = run._account.Name,
                    Uidl = item.Uidl,
                    Generation = item.Generation,
                    BlobName = item.BlobName,
                    State = LedgerState.Pending,
                    FirstSeen = item.FirstSeen,
                    Size = item.Size,
                    ListSize = item.Size,
                    UpdatedAt = run.Now,
                };
                if (head.Count - plan.NewOversize.Count < HeadRows)
                {
                    head.Add(row);
                }
                else
                {
                    if (rest.Count == 0)
                    {
                        headCovers = i;
                    }

                    rest.Add(row);
                }
            }

            var headTask = head.Count == 0 ? Task.CompletedTask : Task.Run(() => run._ledger.InsertAsync(head, run._abort), CancellationToken.None);
            var all = rest.Count == 0 ? headTask : InsertAfterAsync(run, headTask, rest);
            return new PendingRows(headTask, headCovers, all);
        }

        /// <summary>Completes when the row of the message at <paramref name="position"/> in the fetch list is committed.</summary>
        public Task Before(int position) => position < _headCovers ? _head : All;

        private static async Task InsertAfterAsync(IngestionRun run, Task head, List<LedgerRow> rows)
        {
            await head.ConfigureAwait(false);
            await run._ledger.InsertAsync(rows, run._abort).ConfigureAwait(false);
        }
    }

    private async Task QuitQuietlyAsync(Pop3Client client)
    {
        try
        {
            await client.QuitAsync(_abort).ConfigureAwait(false);
        }
        catch (Pop3Exception)
        {
            // Nothing was marked; a lost QUIT changes nothing.
        }
    }

    private async Task RecordFailureAsync(FetchItem item, string reason, int maxAttempts)
    {
        _failed++;
        var state = await _ledger.RecordFailureAsync(_account.Name, item.Uidl, reason, maxAttempts, Now, _abort).ConfigureAwait(false);
        if (state == LedgerState.Quarantined)
        {
            _quarantined++;
            Log.MessageQuarantined(_logger, _account.Name, item.Uidl, maxAttempts, reason);
        }
        else
        {
            Log.MessageFailed(_logger, _account.Name, item.Uidl, _failed, reason);
        }
    }

    private void Fail(FailureKind kind, string message)
    {
        if (_failure == FailureKind.None)
        {
            _failure = kind;
            _error = message;
        }
    }

    private FailureKind? Classify(Exception e) => e switch
    {
        Pop3AuthenticationException or CredentialsUnavailableException => FailureKind.Authentication,
        Pop3SecurityException => FailureKind.Security,
        Pop3ProtocolException => FailureKind.Protocol,
        Pop3ConnectionException => FailureKind.Connection,
        Pop3CommandException => FailureKind.Server,
        StoreException => FailureKind.Store,
        NotifierException => FailureKind.Queue,
        LedgerSchemaException or DbException => FailureKind.Ledger,
        OperationCanceledException when _abort.IsCancellationRequested => FailureKind.Cancelled,
        _ => null,
    };

    private RunResult Finish(DateTimeOffset started, Stopwatch watch, RunOutcome outcome, FailureKind kind, string? error)
    {
        var result = new RunResult
        {
            Account = _account.Name,
            Outcome = outcome,
            FailureKind = kind,
            Error = error,
            Started = started,
            Elapsed = watch.Elapsed,
            Listed = _listed,
            Stored = _stored,
            StoredBytes = _bytes,
            AlreadyStored = _already,
            Notified = _notified,
            Deleted = _deleted,
            Waiting = _waiting,
            Failed = _failed,
            Quarantined = _quarantined,
            Oversize = _oversize,
            Duplicates = _duplicates,
        };
        var seconds = Math.Max(watch.Elapsed.TotalSeconds, 0.001);
        Log.RunFinished(_logger, _account.Name, _stored + _already, _bytes, watch.ElapsedMilliseconds, Math.Round((_stored + _already) / seconds, 1),
            _deleted, _waiting, _failed, _quarantined, _oversize, _duplicates);
        return result;
    }

    /// <summary>An empty ledger beside a store that holds the account's messages: a lost ledger, most likely.</summary>
    private async Task WarnIfStoreHoldsAccountAsync()
    {
        try
        {
            await foreach (var blob in _store.ListAsync(_account.Name, _abort).ConfigureAwait(false))
            {
                Log.LedgerEmptyStoreNot(_logger, _account.Name, blob.BlobName);
                break;
            }
        }
        catch (Exception e) when (e is StoreException or IOException or UnauthorizedAccessException)
        {
            // Only a hint: the run goes on without it.
            Log.StoreNotListed(_logger, _account.Name, e.Message);
        }
    }

    /// <summary>A stored message waiting for its group commit.</summary>
    private sealed record Committed(int Number, string Uidl, string BlobName, long Size, string Sha256, MessageMetadata? Metadata, FetchItem Item);

    /// <summary>
    /// AllowNoUidl (ARCHITECTURE.md §4): without UIDL, each message is spooled first and its id is the SHA-256 of
    /// its content; with DeletePolicy AfterStore every stored message is deleted, so little is downloaded twice.
    /// </summary>
    private static class NoUidlRun
    {
        public static async Task ExecuteAsync(IngestionRun run, Pop3Client client)
        {
            var sizes = await client.ListAsync(run._abort).ConfigureAwait(false);
            run._listed = sizes.Count;
            var known = (await run._ledger.GetAccountAsync(run._account.Name, run._abort).ConfigureAwait(false))
                .ToDictionary(r => r.Uidl, StringComparer.Ordinal);
            var taken = 0;
            long bytes = 0;
            foreach (var entry in sizes)
            {
                if (run._stopping.IsCancellationRequested || run._storeDown)
                {
                    break;
                }

                if (run._account.MaxMessageBytes > 0 && entry.Size > run._account.MaxMessageBytes)
                {
                    run._oversize++;
                    continue;
                }

                if ((run._account.MaxMessagesPerRun > 0 && taken >= run._account.MaxMessagesPerRun) ||
                    (run._account.MaxBytesPerRun > 0 && taken > 0 && bytes + entry.Size > run._account.MaxBytesPerRun))
                {
                    run._waiting++;
                    continue;
                }

                taken++;
                bytes += entry.Size;
                await OneAsync(run, client, entry, known).ConfigureAwait(false);
            }

            await run.CommitBatchAsync().ConfigureAwait(false);
            if (client.State == Pop3SessionState.Transaction)
            {
                await run.DeleteAndQuitAsync(client).ConfigureAwait(false);
            }
        }

        private static async Task OneAsync(IngestionRun run, Pop3Client client, Pop3ListEntry entry, Dictionary<string, LedgerRow> known)
        {
            var spoolPath = Path.Combine(Path.GetTempPath(), $"pop3ingest-{Environment.ProcessId}-{Guid.NewGuid():N}.spool");
            await using var spool = new FileStream(spoolPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024,
                FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            var reader = new MessageMetadataReader();
            await using var content = await client.RetrieveAsync(entry.Number, run._abort).ConfigureAwait(false);
            using var tap = new MessageTap(content, run._account.MaxMessageBytes, reader);
            try
            {
                await tap.CopyToAsync(spool, run._abort).ConfigureAwait(false);
            }
            catch (MessageTooLargeException)
            {
                await content.DrainAsync(run._abort).ConfigureAwait(false);
                run._oversize++;
                return;
            }

            var uidl = "sha256:" + tap.Sha256;
            if (known.TryGetValue(uidl, out var row) && row.State is LedgerState.Stored or LedgerState.Notified or LedgerState.Deleted)
            {
                run._deletable.Add((entry.Number, uidl));
                return;
            }

            var now = run.Now;
            var item = new FetchItem(entry.Number, uidl, entry.Size, row?.BlobName ?? BlobNaming.BlobNameOf(run._account.Name, uidl, now), row?.FirstSeen ?? now, row is null);
            if (row is null)
            {
                await run._ledger.InsertAsync([new LedgerRow
                {
                    Account = run._account.Name, Uidl = uidl, BlobName = item.BlobName, State = LedgerState.Pending,
                    FirstSeen = now, Size = tap.BytesRead, UpdatedAt = now,
                }], run._abort).ConfigureAwait(false);
                known[uidl] = new LedgerRow { Account = run._account.Name, Uidl = uidl, BlobName = item.BlobName, State = LedgerState.Pending, FirstSeen = now };
            }

            spool.Position = 0;
            try
            {
                var put = await run._store.PutAsync(item.BlobName, spool, new BlobProperties(run._account.Name, BlobNaming.IdOf(uidl)),
                    run._options.Sidecar ? result => EventDataWriter.ToJson(run.EventData(item, tap, result)) : null, run._abort).ConfigureAwait(false);
                if (put.Created)
                {
                    run._stored++;
                    run._bytes += tap.BytesRead;
                }
                else
                {
                    run._already++;
                }

                if (run._batch.Count == 0)
                {
                    run._batchAge.Restart();
                }

                run._batch.Add(new Committed(entry.Number, uidl, item.BlobName, put.ExistingSize ?? tap.BytesRead, put.ExistingSha256 ?? tap.Sha256, tap.Metadata, item));
            }
            catch (StoreException e)
            {
                Log.StoreFailed(run._logger, run._account.Name, uidl, e.Message);
                await run.RecordFailureAsync(item, e.Message, run._options.MaxAttempts).ConfigureAwait(false);
                run._storeDown = true;
                run.Fail(FailureKind.Store, e.Message);
            }
        }
    }
}
