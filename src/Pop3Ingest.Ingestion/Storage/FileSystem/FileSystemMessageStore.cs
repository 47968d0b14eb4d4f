using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Pop3Ingest.Ingestion.Storage.FileSystem;

/// <summary>
/// Blobs as files under a root folder (README.md, "What lands in the store"). A put writes the message (and its sidecar) to temp files
/// in <c>{root}/.tmp/</c> and nothing else, keeping them open; <see cref="FlushAsync"/> is the group commit: the
/// writeback of every file of the group is started at once (<c>sync_file_range(2)</c>), then each is fsynced (on a
/// journalling file system the first fsync commits the journal with all of them in it, so the rest return at once),
/// then each file gets its name (a message without replacing anything, after its sidecar), then the directories that
/// gained entries are fsynced. A message therefore appears under its name only once its bytes are on disk, and a crash
/// leaves either nothing or the whole file; only the store's own files are written back (unlike syncfs, which would
/// flush every other program's dirty pages on the same file system).
/// <para>
/// Where Linux offers it, a temp file is unnamed (<c>O_TMPFILE</c> in <c>.tmp</c>) and gets its name with one
/// <c>linkat(2)</c>: a killed process leaves no litter (the kernel frees an unnamed file when it is closed), and
/// creating one does not take the directory's lock, which a named create holds for its whole inode allocation.
/// That allocation is the costly part of a small write on ext4 (a search of the inode bitmap, from a fraction of a
/// millisecond up to several after many deletions), so temp files are created ahead, in parallel on up to one
/// thread per core, while the current message streams in; a put takes a ready one and only writes. Elsewhere temp
/// files are named, created ahead on one thread, and renamed into place (<c>renameat2</c> RENAME_NOREPLACE).
/// </para>
/// </summary>
internal sealed class FileSystemMessageStore : IMessageStore, IDisposable
{
    private const int CopyBufferSize = 128 * 1024;
    private readonly string _root;
    private readonly string _temp;
    private readonly HashSet<string> _dirtyDirectories = new(StringComparer.Ordinal);
    private readonly HashSet<string> _knownDirectories = new(StringComparer.Ordinal);
    private readonly List<PendingFile> _pending = [];
    private readonly HashSet<string> _pendingTargets = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flushingTargets = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentQueue<TempFile> _ready = new();
    private readonly bool _namedOnly;
    private readonly Queue<Commitment> _commits = new();
    private readonly object _signal = new();
    private readonly List<Thread> _threads = [];
    private bool _filesWanted;
    private int _creators = 1;
    private volatile bool _unnamed;
    private volatile bool _disposed;

    /// <summary>Below this many ready temp files a refill starts; it creates up to <see cref="ReadyHigh"/>.</summary>
    private const int ReadyLow = 16;

    private const int ReadyHigh = 64;

    /// <param name="root">The store folder.</param>
    /// <param name="namedTempFilesOnly">Never use unnamed temp files (tests of the fallback path).</param>
    public FileSystemMessageStore(string root, bool namedTempFilesOnly = false)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _temp = Path.Combine(_root, ".tmp");
        _namedOnly = namedTempFilesOnly;
    }

    public string Kind => StorageProviders.FileSystem;

    public string Root => _root;

    /// <summary>Whether temp files are unnamed (O_TMPFILE, linked into place); known once initialized.</summary>
    public bool UsesUnnamedTempFiles => _unnamed;

    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            Directory.CreateDirectory(_temp);
            foreach (var file in Directory.EnumerateFiles(_temp))
            {
                // Another live process on the same root keeps its own files; the dead leave litter.
                if (!OwnerIsAlive(Path.GetFileName(file)))
                {
                    File.Delete(file);
                }
            }

            _unnamed = !_namedOnly && UnnamedTempFilesWork();
            _creators = _unnamed ? Math.Clamp(Environment.ProcessorCount, 1, 4) : 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"The store folder {_root} cannot be prepared: {e.Message}", e, isTransient: false);
        }

        return Task.CompletedTask;
    }

    public Task<string> CheckAsync(CancellationToken cancellationToken)
    {
        // A probe file, written and removed, where the first run will write: the temp folder, or the nearest folder
        // that exists when the store's own folders do not yet (check creates none of them).
        var existing = _temp;
        while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is { } parent)
        {
            existing = parent;
        }

        var probe = Path.Combine(existing, $".pop3ingest-check-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"The store folder {_root} cannot be written ({existing}: {e.Message}).", e, isTransient: false);
        }

        return Task.FromResult(existing == _temp
            ? $"folder {_root}, writable"
            : $"folder {_root} does not exist yet; the first run creates it (in {existing}, writable)");
    }

    public Task PingAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_temp))
        {
            throw new StoreException($"The store folder {_temp} does not exist.");
        }

        var probe = Path.Combine(_temp, $"{Environment.ProcessId}-ping-{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"The store folder {_root} is not writable: {e.Message}", e);
        }

        return Task.CompletedTask;
    }

    public async Task<PutResult> PutAsync(string blobName, Stream content, BlobProperties properties, Func<PutResult, byte[]>? sidecar, CancellationToken cancellationToken)
    {
        var target = PathOf(blobName);
        var directory = Path.GetDirectoryName(target)!;
        bool waiting;
        lock (_pending)
        {
            waiting = _pendingTargets.Contains(target) || _flushingTargets.Contains(target);
        }

        if (waiting)
        {
            // The same name waits for (or is in) a group commit: commit it first, so that what is there decides.
            await FlushAsync(properties.Account, cancellationToken).ConfigureAwait(false);
        }

        if (File.Exists(target))
        {
            // A crash after the rename, before the ledger knew: the stored file wins; read the new copy to its end.
            await content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            var kept = await DescribeAsync(target, cancellationToken).ConfigureAwait(false);
            if (sidecar?.Invoke(kept) is { } keptJson)
            {
                Add(new PendingFile(properties.Account, WriteTemp(blobName, keptJson), PathOf(BlobNaming.SidecarOf(blobName)), directory, Replace: true));
            }

            return kept;
        }

        TempFile? temp = null;
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            // Synchronous writes: they land in the page cache at once, and an asynchronous file write on Unix is a
            // synchronous one moved to the thread pool, a thread switch per chunk for nothing. The file stays open
            // for the group commit's sync.
            temp = TakeTempFile();
            long offset = 0;
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                RandomAccess.Write(temp.Value.Handle, buffer.AsSpan(0, read), offset);
                offset += read;
            }

            var created = new PutResult(Created: true);
            if (sidecar?.Invoke(created) is { } json)
            {
                // The sidecar goes into place before the message, so a consumer that sees the message finds it.
                Add(new PendingFile(properties.Account, WriteTemp(blobName, json), PathOf(BlobNaming.SidecarOf(blobName)), directory, Replace: true));
            }

            Add(new PendingFile(properties.Account, temp.Value, target, directory, Replace: false));
            return created;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            temp?.Discard();
            throw new StoreException($"Writing {blobName} to {_root} failed: {e.Message}", e);
        }
        catch
        {
            temp?.Discard();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The group commit: everything put so far is durable and in place when it returns. If it throws, none of the
    /// group counts as stored; what did reach its name is whole (its data was synced before the rename) and is
    /// found by the next run, and what did not is litter in <c>.tmp</c>, removed at the next start.
    /// </summary>
    public async Task FlushAsync(string account, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            PendingFile[] group;
            lock (_pending)
            {
                // Only this account's files: a failure is reported to the run that wrote them and to no other.
                group = [.. _pending.Where(f => string.Equals(f.Account, account, StringComparison.OrdinalIgnoreCase))];
                _pending.RemoveAll(f => string.Equals(f.Account, account, StringComparison.OrdinalIgnoreCase));
                foreach (var file in group)
                {
                    _pendingTargets.Remove(file.Target);
                    _flushingTargets.Add(file.Target);
                }

                if (group.Length == 0 && _dirtyDirectories.Count == 0)
                {
                    return;
                }
            }

            // The syncs and the renames block for a while: on the store's commit thread, so that the pipeline goes on
            // and no thread-pool thread is held (blocked pool threads delay every socket completion of the process).
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            EnsureThreads();
            lock (_signal)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _commits.Enqueue(new Commitment(group, done));
                Monitor.PulseAll(_signal);
            }

            await done.Task.ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Commit(PendingFile[] group)
    {
        try
        {
            SyncFiles(group);

            foreach (var file in group)
            {
                EnsureDirectory(file.Directory);
                Place(file);
                MarkDirty(file.Directory);
            }

            SyncDirectories();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (var file in group)
            {
                file.Temp.Discard();
            }

            lock (_pending)
            {
                _knownDirectories.Clear();
            }

            throw new StoreException($"Committing {group.Length} files to {_root} failed: {e.Message}", e);
        }
        finally
        {
            lock (_pending)
            {
                foreach (var file in group)
                {
                    file.Temp.Handle.Dispose();
                    _flushingTargets.Remove(file.Target);
                }
            }
        }
    }

    /// <summary>Gives a synced temp file its name: a message never replaces a file; a sidecar does.</summary>
    private void Place(PendingFile file)
    {
        if (file.Temp.Path is { } named)
        {
            if (file.Replace)
            {
                File.Move(named, file.Target, overwrite: true);
            }
            else if (!NativeFileSystem.RenameNoReplace(named, file.Target))
            {
                // Another writer got there first; its file is kept.
                TryDelete(named);
            }

            return;
        }

        if (NativeFileSystem.TryLinkUnnamed(file.Temp.Handle, file.Target) || !file.Replace)
        {
            // Linked; or a message whose name another writer took first: its file is kept, and this one is freed
            // when its handle closes.
            return;
        }

        // A sidecar that replaces an older one (a crash between the sidecar and its message): a link cannot replace,
        // so the file gets a name in .tmp first and is renamed over the old one.
        var staged = TempPath();
        if (!NativeFileSystem.TryLinkUnnamed(file.Temp.Handle, staged))
        {
            throw new IOException($"The temp name {staged} is taken.");
        }

        try
        {
            File.Move(staged, file.Target, overwrite: true);
        }
        catch
        {
            TryDelete(staged);
            throw;
        }
    }

    public string LocationOf(string blobName) => blobName;

    public Task<Stream?> OpenReadAsync(string blobName, CancellationToken cancellationToken)
    {
        var path = PathOf(blobName);
        Stream? stream = File.Exists(path)
            ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan)
            : null;
        return Task.FromResult(stream);
    }

    public async IAsyncEnumerable<StoredBlob> ListAsync(string account, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var folder = new DirectoryInfo(PathOf(account.ToLowerInvariant()));
        if (!folder.Exists)
        {
            yield break;
        }

        using var files = Enumerate(folder);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            StoredBlob blob;
            try
            {
                if (!files.MoveNext())
                {
                    yield break;
                }

                var file = files.Current;
                if (BlobNaming.IdOfBlobName(file.Name) is null)
                {
                    continue; // not a message of ours
                }

                blob = new StoredBlob(Path.GetRelativePath(_root, file.FullName).Replace(Path.DirectorySeparatorChar, '/'), file.Length, null,
                    new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StoreException($"Listing {folder.FullName} failed: {e.Message}", e);
            }

            yield return blob;
        }
    }

    private static IEnumerator<FileInfo> Enumerate(DirectoryInfo folder)
    {
        try
        {
            // Dot-files and dot-folders are skipped (hidden on Unix): consumers ignore them, and so does the store.
            return folder.EnumerateFiles("*.eml", new EnumerationOptions { RecurseSubdirectories = true }).GetEnumerator();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"Listing {folder.FullName} failed: {e.Message}", e);
        }
    }

    /// <summary>The full path of a blob, refusing any name that could leave the root.</summary>
    public string PathOf(string blobName)
    {
        if (string.IsNullOrEmpty(blobName) || blobName.Contains("..", StringComparison.Ordinal) || blobName.StartsWith('/') ||
            blobName.StartsWith('.') || blobName.Contains('\\', StringComparison.Ordinal) || blobName.Contains('\0', StringComparison.Ordinal))
        {
            throw new StoreException($"Refusing the blob name '{blobName}': it could leave the store root.", isTransient: false);
        }

        var full = Path.GetFullPath(Path.Combine(_root, blobName));
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new StoreException($"Refusing the blob name '{blobName}': it resolves outside the store root.", isTransient: false);
        }

        return full;
    }

    /// <summary>
    /// Closes the temp files made ahead (removing the named ones) and those of puts not yet committed (named ones are
    /// left to the next start's clean-up; unnamed ones are freed by the kernel).
    /// </summary>
    public void Dispose()
    {
        lock (_signal)
        {
            _disposed = true;
            Monitor.PulseAll(_signal);
        }

        lock (_threads)
        {
            foreach (var thread in _threads)
            {
                // A commit in the queue finishes first; a creator finishes the file it is creating.
                thread.Join(TimeSpan.FromSeconds(30));
            }
        }

        while (_ready.TryDequeue(out var ready))
        {
            ready.Discard();
        }

        lock (_pending)
        {
            foreach (var file in _pending)
            {
                file.Temp.Handle.Dispose();
            }
        }

        _gate.Dispose();
    }

    /// <summary>An empty temp file, created and open for writing; made ahead when possible.</summary>
    private TempFile TakeTempFile()
    {
        var taken = _ready.TryDequeue(out var ready);
        StartRefill();
        return taken ? ready : CreateTempFile();
    }

    private TempFile CreateTempFile()
    {
        if (_unnamed && NativeFileSystem.TryOpenUnnamed(_temp) is { } unnamed)
        {
            return new TempFile(null, unnamed);
        }

        var path = TempPath();
        return new TempFile(path, File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None));
    }

    /// <summary>Wakes the creators (up to one per core for unnamed files, one for named files) when few files are ready.</summary>
    private void StartRefill()
    {
        if (_ready.Count >= ReadyLow || _disposed)
        {
            return;
        }

        EnsureThreads();
        lock (_signal)
        {
            if (!_filesWanted)
            {
                _filesWanted = true;
                Monitor.PulseAll(_signal);
            }
        }
    }

    /// <summary>
    /// Starts the store's own threads once: the commit thread and the creators. File creation and the group commit
    /// block in the kernel, so they get threads of their own rather than pool threads; kept for the store's lifetime
    /// rather than started per refill or per commit (a drain of 5,000 messages started 267 threads).
    /// </summary>
    private void EnsureThreads()
    {
        lock (_threads)
        {
            if (_threads.Count > 0 || _disposed)
            {
                return;
            }

            _threads.Add(new Thread(RunCommits) { IsBackground = true, Name = "store commit" });
            for (var i = 0; i < _creators; i++)
            {
                _threads.Add(new Thread(RunCreator) { IsBackground = true, Name = "store create" });
            }

            foreach (var thread in _threads)
            {
                thread.Start();
            }
        }
    }

    /// <summary>
    /// The commit thread. Monitor.Wait, not a SemaphoreSlim or a BlockingCollection: those spin (sched_yield) before
    /// they block, and an idle store thread spinning takes the core the pipeline and the server need.
    /// </summary>
    private void RunCommits()
    {
        while (true)
        {
            Commitment commitment;
            lock (_signal)
            {
                while (_commits.Count == 0 && !_disposed)
                {
                    Monitor.Wait(_signal);
                }

                if (!_commits.TryDequeue(out commitment!))
                {
                    return; // disposed, and every queued commit done
                }
            }

            try
            {
                Commit(commitment.Group);
                commitment.Done.SetResult();
            }
#pragma warning disable CA1031 // Whatever the commit throws belongs to the run that waits for it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                commitment.Done.SetException(e);
            }
        }
    }

    private void RunCreator()
    {
        while (true)
        {
            lock (_signal)
            {
                while (!_filesWanted && !_disposed)
                {
                    Monitor.Wait(_signal);
                }

                if (_disposed)
                {
                    return;
                }
            }

            // Every creator woken by the shortage fills, in parallel, until the pool is full.
            var failed = false;
            while (_ready.Count < ReadyHigh && !_disposed)
            {
                try
                {
                    _ready.Enqueue(CreateTempFile());
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A full disk or a missing folder: a put then creates its own file and reports the error.
                    failed = true;
                    break;
                }
            }

            lock (_signal)
            {
                // Full (or failing): sleep until a put finds the pool low again, which it reports on every take.
                if (failed || _ready.Count >= ReadyLow)
                {
                    _filesWanted = false;
                }
            }
        }
    }

    /// <summary>Whether an unnamed temp file can be created in .tmp and linked to a name (then removed again).</summary>
    private bool UnnamedTempFilesWork()
    {
        using var probe = NativeFileSystem.TryOpenUnnamed(_temp);
        if (probe is null)
        {
            return false;
        }

        var name = TempPath();
        try
        {
            return NativeFileSystem.TryLinkUnnamed(probe, name);
        }
        catch (IOException)
        {
            // No /proc (linkat goes through /proc/self/fd), or a file system that refuses the link.
            return false;
        }
        finally
        {
            TryDelete(name);
        }
    }

    private void Add(PendingFile file)
    {
        lock (_pending)
        {
            _pending.Add(file);
            _pendingTargets.Add(file.Target);
        }
    }

    private TempFile WriteTemp(string blobName, byte[] json)
    {
        TempFile? temp = null;
        try
        {
            temp = TakeTempFile();
            RandomAccess.Write(temp.Value.Handle, json, 0);
            return temp.Value;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            temp?.Discard();
            throw new StoreException($"Writing the sidecar of {blobName} to {_root} failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Makes the group's data durable before any of it is renamed: writeback of every file is started first, so
    /// that the block allocations of all of them land in the journal transaction that the first fsync commits
    /// (ext4 and XFS in ordered mode write the data before that commit); the later fsyncs find their transaction
    /// committed and return without another journal commit or cache flush.
    /// </summary>
    private static void SyncFiles(PendingFile[] group)
    {
        foreach (var file in group)
        {
            NativeFileSystem.StartWriteback(file.Temp.Handle);
        }

        foreach (var file in group)
        {
            RandomAccess.FlushToDisk(file.Temp.Handle);
        }
    }

    private void SyncDirectories()
    {
        string[] directories;
        lock (_pending)
        {
            directories = [.. _dirtyDirectories];
            _dirtyDirectories.Clear();
        }

        try
        {
            foreach (var directory in directories)
            {
                NativeFileSystem.SyncDirectory(directory);
            }
        }
        catch (IOException)
        {
            lock (_pending)
            {
                _dirtyDirectories.UnionWith(directories);
            }

            throw;
        }
    }

    private static async Task<PutResult> DescribeAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var hash = await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
        return new PutResult(Created: false, Convert.ToHexStringLower(hash), file.Length);
    }

    /// <summary>Creates the folders a blob needs; each new folder's parent is synced with the group.</summary>
    private void EnsureDirectory(string directory)
    {
        lock (_pending)
        {
            if (_knownDirectories.Contains(directory))
            {
                return;
            }
        }

        var missing = new Stack<string>();
        for (var d = directory; !Directory.Exists(d); d = Path.GetDirectoryName(d)!)
        {
            missing.Push(d);
        }

        while (missing.TryPop(out var d))
        {
            Directory.CreateDirectory(d);
            MarkDirty(Path.GetDirectoryName(d)!);
        }

        lock (_pending)
        {
            _knownDirectories.Add(directory);
        }
    }

    private void MarkDirty(string directory)
    {
        lock (_pending)
        {
            _dirtyDirectories.Add(directory);
        }
    }

    private string TempPath() => Path.Combine(_temp, $"{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");

    private static bool OwnerIsAlive(string fileName)
    {
        var dash = fileName.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 || !int.TryParse(fileName.AsSpan(0, dash), out var pid) || pid == Environment.ProcessId)
        {
            return false;
        }

        return OperatingSystem.IsLinux() ? Directory.Exists($"/proc/{pid}") : false;
    }

    private static void TryDelete(string path)
    {
        if (path.Length == 0)
        {
            return;
        }

        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Litter in .tmp is removed at the next start.
        }
    }

    /// <summary>An open temp file: named in <c>.tmp</c>, or unnamed (<see cref="Path"/> null).</summary>
    private readonly record struct TempFile(string? Path, SafeFileHandle Handle)
    {
        /// <summary>Closes it and removes it (an unnamed one is freed by the close).</summary>
        public void Discard()
        {
            Handle.Dispose();
            if (Path is not null)
            {
                TryDelete(Path);
            }
        }
    }

    /// <summary>A group for the commit thread, and the task its run awaits.</summary>
    private sealed record Commitment(PendingFile[] Group, TaskCompletionSource Done);

    /// <summary>A file written to <c>.tmp</c> that the next group commit gives its name.</summary>
    private sealed record PendingFile(string Account, TempFile Temp, string Target, string Directory, bool Replace);
}
