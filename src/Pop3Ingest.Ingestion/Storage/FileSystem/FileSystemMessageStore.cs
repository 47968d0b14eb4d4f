using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Pop3Ingest.Ingestion.Storage.FileSystem;

/// <summary>
/// Blobs as files under a root folder (ARCHITECTURE.md §5). A put writes the message (and its sidecar) to temp files
/// in <c>{root}/.tmp/</c> and nothing else; <see cref="FlushAsync"/> is the group commit: the writeback of every file
/// of the group is started at once (<c>sync_file_range(2)</c>), then each is fsynced (the first fsync commits the
/// file system's journal with all of them in it, so the rest return at once), then each file is renamed into place
/// (a message without replacing anything, after its sidecar), then the directories that gained entries are fsynced.
/// A message therefore appears under its name only once its bytes are on disk, and a crash leaves either nothing or
/// the whole file; one journal commit serves a whole group instead of one per file, and only the store's own files
/// are written back (unlike syncfs, which would flush every other program's dirty pages on the same file system).
/// Creating a file is the costly part of a small write on ext4 (the inode allocator's search, a fraction of a
/// millisecond of kernel time), so empty temp files are created ahead on a thread of their own, on the other core,
/// while the current message streams in; a put takes a ready one and only writes.
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
    private int _refilling;
    private volatile bool _disposed;

    /// <summary>Below this many ready temp files a refill starts; it creates up to <see cref="ReadyHigh"/>.</summary>
    private const int ReadyLow = 8;

    private const int ReadyHigh = 32;

    public FileSystemMessageStore(string root)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _temp = Path.Combine(_root, ".tmp");
    }

    public string Kind => "FileSystem";

    public string Root => _root;

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
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"The store folder {_root} cannot be prepared: {e.Message}", e, isTransient: false);
        }

        return Task.CompletedTask;
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
                var sidecarTemp = WriteTemp(blobName, keptJson);
                Add(new PendingFile(properties.Account, sidecarTemp, PathOf(BlobNaming.SidecarOf(blobName)), directory, Replace: true));
            }

            return kept;
        }

        var temp = string.Empty;
        SafeFileHandle? file = null;
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            // Synchronous writes: they land in the page cache at once, and an asynchronous file write on Unix is a
            // synchronous one moved to the thread pool, a thread switch per chunk for nothing.
            (temp, file) = TakeTempFile();
            long offset = 0;
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                RandomAccess.Write(file, buffer.AsSpan(0, read), offset);
                offset += read;
            }

            file.Dispose();
            file = null;
            var created = new PutResult(Created: true);
            if (sidecar?.Invoke(created) is { } json)
            {
                // The sidecar goes into place before the message, so a consumer that sees the message finds it.
                Add(new PendingFile(properties.Account, WriteTemp(blobName, json), PathOf(BlobNaming.SidecarOf(blobName)), directory, Replace: true));
            }

            Add(new PendingFile(properties.Account, temp, target, directory, Replace: false));
            return created;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            file?.Dispose();
            TryDelete(temp);
            throw new StoreException($"Writing {blobName} to {_root} failed: {e.Message}", e);
        }
        catch
        {
            file?.Dispose();
            TryDelete(temp);
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

            // The syncs and the renames block for a while: on a thread of their own, so that the pipeline goes on and
            // no thread-pool thread is held (blocked pool threads delay every socket completion of the process).
            await Task.Factory.StartNew(() => Commit(group), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                .ConfigureAwait(false);
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
                if (file.Replace)
                {
                    File.Move(file.Temp, file.Target, overwrite: true);
                }
                else if (!NativeFileSystem.RenameNoReplace(file.Temp, file.Target))
                {
                    // Another writer got there first; its file is kept.
                    TryDelete(file.Temp);
                }

                MarkDirty(file.Directory);
            }

            SyncDirectories();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (var file in group)
            {
                TryDelete(file.Temp);
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
                    _flushingTargets.Remove(file.Target);
                }
            }
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

    /// <summary>Closes and removes the temp files made ahead; puts still pending are left to the next start's clean-up.</summary>
    public void Dispose()
    {
        _disposed = true;
        SpinWait.SpinUntil(() => Volatile.Read(ref _refilling) == 0);
        while (_ready.TryDequeue(out var ready))
        {
            ready.Handle.Dispose();
            TryDelete(ready.Path);
        }

        _gate.Dispose();
    }

    /// <summary>An empty temp file, created and open for writing; made ahead when possible.</summary>
    private TempFile TakeTempFile()
    {
        if (_ready.TryDequeue(out var ready))
        {
            StartRefill();
            return ready;
        }

        StartRefill();
        var path = TempPath();
        return new TempFile(path, File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None));
    }

    private void StartRefill()
    {
        if (_ready.Count >= ReadyLow || _disposed || Interlocked.CompareExchange(ref _refilling, 1, 0) != 0)
        {
            return;
        }

        // File creation blocks in the kernel; like the commit, it gets a thread of its own rather than a pool thread.
        _ = Task.Factory.StartNew(static store => ((FileSystemMessageStore)store!).Refill(), this, CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Refill()
    {
        try
        {
            while (_ready.Count < ReadyHigh && !_disposed)
            {
                var path = TempPath();
                try
                {
                    _ready.Enqueue(new TempFile(path, File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None)));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A full disk or a missing folder: a put then creates its own file and reports the error.
                    return;
                }
            }
        }
        finally
        {
            Volatile.Write(ref _refilling, 0);
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

    private string WriteTemp(string blobName, byte[] json)
    {
        var temp = string.Empty;
        try
        {
            var (path, handle) = TakeTempFile();
            temp = path;
            using var file = handle;
            RandomAccess.Write(file, json, 0);
            return temp;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
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
        var handles = new SafeFileHandle[group.Length];
        try
        {
            for (var i = 0; i < group.Length; i++)
            {
                handles[i] = File.OpenHandle(group[i].Temp, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, FileOptions.None);
                NativeFileSystem.StartWriteback(handles[i]);
            }

            foreach (var handle in handles)
            {
                RandomAccess.FlushToDisk(handle);
            }
        }
        finally
        {
            foreach (var handle in handles)
            {
                handle?.Dispose();
            }
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

    private readonly record struct TempFile(string Path, SafeFileHandle Handle);

    /// <summary>A file written to <c>.tmp</c> that the next group commit moves to its name.</summary>
    private sealed record PendingFile(string Account, string Temp, string Target, string Directory, bool Replace);
}
