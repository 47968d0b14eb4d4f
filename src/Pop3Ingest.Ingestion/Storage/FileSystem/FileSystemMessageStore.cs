using System.Buffers;
using System.Security.Cryptography;

namespace Pop3Ingest.Ingestion.Storage.FileSystem;

/// <summary>
/// Blobs as files under a root folder (ARCHITECTURE.md §5): each is written to <c>{root}/.tmp/</c>, fsynced, and
/// linked into place without replacing anything (so a crash leaves either nothing or the whole file); the
/// directories that gained entries are fsynced in <see cref="FlushAsync"/>, once per group of messages. The fsync
/// and link of up to 16 messages run on <see cref="FileSyncThreads"/> while the next message streams in;
/// <see cref="FlushAsync"/> waits for them, so a message counts as stored only once its file is durable.
/// </summary>
internal sealed class FileSystemMessageStore : IMessageStore
{
    private const int CopyBufferSize = 128 * 1024;
    private readonly string _root;
    private readonly string _temp;
    private const int MaxWritesInFlight = 16;
    private readonly HashSet<string> _dirtyDirectories = new(StringComparer.Ordinal);
    private readonly HashSet<string> _knownDirectories = new(StringComparer.Ordinal);
    private readonly List<Task> _writes = [];
    private readonly Dictionary<string, Task> _inFlight = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writeSlots = new(MaxWritesInFlight);
    private readonly Lock _dirtyLock = new();

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
        Task? earlier;
        lock (_dirtyLock)
        {
            earlier = _inFlight.GetValueOrDefault(target);
        }

        if (earlier is not null)
        {
            // The same name is still being written: its outcome decides what is there (FlushAsync reports its failure).
            await earlier.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }

        if (File.Exists(target))
        {
            // A crash after the link, before the ledger knew: the stored file wins; read the new copy to its end.
            await content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            var kept = await DescribeAsync(target, cancellationToken).ConfigureAwait(false);
            try
            {
                WriteSidecar(blobName, sidecar?.Invoke(kept), directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StoreException($"Writing {blobName} to {_root} failed: {e.Message}", e);
            }

            return kept;
        }

        var temp = TempPath();
        FileStream? file = null;
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            // Synchronous writes: they land in the page cache at once, and an asynchronous file write on Unix is a
            // synchronous one moved to the thread pool, a thread switch per chunk for nothing.
            file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0, FileOptions.None);
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                file.Write(buffer, 0, read);
            }

            EnsureDirectory(directory);
            var created = new PutResult(Created: true);
            var json = sidecar?.Invoke(created);
            await _writeSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
            var written = file;
            file = null;
            lock (_dirtyLock)
            {
                var write = FileSyncThreads.Run(() => Complete(blobName, written, temp, target, directory, json));
                _writes.Add(write);
                _inFlight[target] = write;
            }

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
    /// Waits for the writes still finishing on the sync threads, then syncs the directories that gained entries.
    /// After it returns, everything put so far is durable; if any write failed, it throws and none of the group
    /// counts as stored (what did land is found, whole, by the next run).
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        Task[] writes;
        lock (_dirtyLock)
        {
            writes = [.. _writes];
            _writes.Clear();
        }

        try
        {
            await Task.WhenAll(writes).ConfigureAwait(false);
        }
        catch (Exception) when (writes.FirstOrDefault(w => w.IsFaulted)?.Exception?.InnerException is { } first)
        {
            lock (_dirtyLock)
            {
                _knownDirectories.Clear();
            }

            throw first is StoreException ? first : new StoreException($"Writing to {_root} failed: {first.Message}", first);
        }

        string[] directories;
        lock (_dirtyLock)
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
        catch (IOException e)
        {
            lock (_dirtyLock)
            {
                _dirtyDirectories.UnionWith(directories);
            }

            throw new StoreException($"Syncing the store folder {_root} failed: {e.Message}", e);
        }
    }

    /// <summary>On a sync thread: fsync the message, store its sidecar, then link the message into place.</summary>
    private void Complete(string blobName, FileStream file, string temp, string target, string directory, byte[]? json)
    {
        try
        {
            using (file)
            {
                file.Flush(flushToDisk: true);
            }

            WriteSidecar(blobName, json, directory);
            try
            {
                // File.Move without overwrite links the new name (failing if it exists) and unlinks the old:
                // a concurrent or earlier blob is never replaced.
                File.Move(temp, target, overwrite: false);
            }
            catch (IOException) when (File.Exists(target))
            {
                // Another writer got there first; its file is kept.
                File.Delete(temp);
            }

            MarkDirty(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new StoreException($"Writing {blobName} to {_root} failed: {e.Message}", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        finally
        {
            lock (_dirtyLock)
            {
                _inFlight.Remove(target);
            }

            _writeSlots.Release();
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

    private void WriteSidecar(string blobName, byte[]? json, string directory)
    {
        if (json is null)
        {
            return;
        }

        var temp = TempPath();
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0, FileOptions.None))
            {
                file.Write(json);
                file.Flush(flushToDisk: true);
            }

            EnsureDirectory(directory);
            File.Move(temp, PathOf(BlobNaming.SidecarOf(blobName)), overwrite: true);
            MarkDirty(directory);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    private static async Task<PutResult> DescribeAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var hash = await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
        return new PutResult(Created: false, Convert.ToHexStringLower(hash), file.Length);
    }

    /// <summary>Creates the folders a blob needs; each new folder's parent is synced at the next flush.</summary>
    private void EnsureDirectory(string directory)
    {
        lock (_dirtyLock)
        {
            if (_knownDirectories.Contains(directory))
            {
                return;
            }
        }

        if (Directory.Exists(directory))
        {
            lock (_dirtyLock)
            {
                _knownDirectories.Add(directory);
            }

            return;
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

        lock (_dirtyLock)
        {
            _knownDirectories.Add(directory);
        }
    }

    private void MarkDirty(string directory)
    {
        lock (_dirtyLock)
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
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Litter in .tmp is removed at the next start.
        }
    }
}
