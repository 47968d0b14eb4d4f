using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Pop3Ingest.Ingestion.Storage.FileSystem;

/// <summary>
/// The file-system calls .NET does not offer: fsync of a directory (a rename is durable only once the directory
/// that holds the new entry is synced, fsync(2)), starting a file's writeback without waiting (sync_file_range(2)),
/// a rename that never replaces (renameat2(2) with RENAME_NOREPLACE, or link(2) and unlink(2) where a file
/// system lacks it), and unnamed temp files (open(2) with O_TMPFILE, given a name later with linkat(2)).
/// </summary>
internal static partial class NativeFileSystem
{
    private const int ReadOnly = 0;
    private const int CloseOnExec = 0x80000; // O_CLOEXEC, the same on x86-64 and arm64
    private const int AtCurrentDirectory = -100; // AT_FDCWD
    private const uint RenameNoReplaceFlag = 1; // RENAME_NOREPLACE
    private const int ErrorExists = 17; // EEXIST
    private const int ErrorInvalid = 22; // EINVAL: the file system does not support the flag
    private const int ErrorNotImplemented = 38; // ENOSYS
    private const int ErrorNoSuchFile = 2; // ENOENT: no /proc, or an old kernel without O_TMPFILE
    private const int ErrorIsDirectory = 21; // EISDIR: a kernel older than 3.11 reads O_TMPFILE as O_DIRECTORY
    private const int ErrorNotSupported = 95; // EOPNOTSUPP: the file system has no O_TMPFILE
    private const uint SyncFileRangeWrite = 2; // SYNC_FILE_RANGE_WRITE
    private const int WriteOnly = 1; // O_WRONLY
    private const int AtSymlinkFollow = 0x400; // AT_SYMLINK_FOLLOW
    private const int CreateMode = 0x1B6; // 0666, less the umask, as .NET creates files

    /// <summary>
    /// O_TMPFILE (__O_TMPFILE | O_DIRECTORY): 020200000 on x86-64, 020040000 on arm64, where O_DIRECTORY differs;
    /// zero (unsupported) elsewhere.
    /// </summary>
    private static readonly int s_unnamedFlag = !OperatingSystem.IsLinux() ? 0 : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 0x410000,
        Architecture.Arm64 => 0x404000,
        _ => 0,
    };

    public static void SyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return; // Windows commits directory entries with the metadata journal; there is no directory fsync.
        }

        var fd = Open(path, ReadOnly | CloseOnExec);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory {path} to sync it: {LastError()}");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {path} failed: {LastError()}");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writing the file's dirty pages without waiting. Only a
    /// hint for the fsync that follows; where the call does not exist (not Linux) or fails, that fsync does the work.
    /// </summary>
    public static void StartWriteback(SafeFileHandle file)
    {
        if (OperatingSystem.IsLinux())
        {
            _ = SyncFileRange(file, 0, 0, SyncFileRangeWrite);
        }
    }

    /// <summary>Renames <paramref name="from"/> to <paramref name="to"/> unless <paramref name="to"/> exists (then false).</summary>
    public static bool RenameNoReplace(string from, string to)
    {
        if (OperatingSystem.IsLinux())
        {
            if (RenameAt2(AtCurrentDirectory, from, AtCurrentDirectory, to, RenameNoReplaceFlag) == 0)
            {
                return true;
            }

            var error = Marshal.GetLastPInvokeError();
            if (error == ErrorExists)
            {
                return false;
            }

            if (error is not ErrorInvalid and not ErrorNotImplemented)
            {
                throw new IOException($"Renaming {from} to {to} failed: {new Win32Exception(error).Message}");
            }

            // NFS and a few others lack RENAME_NOREPLACE; a hard link fails just as atomically when the name exists.
            if (Link(from, to) != 0)
            {
                error = Marshal.GetLastPInvokeError();
                return error == ErrorExists
                    ? false
                    : throw new IOException($"Linking {from} to {to} failed: {new Win32Exception(error).Message}");
            }

            File.Delete(from);
            return true;
        }

        try
        {
            File.Move(from, to, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(to))
        {
            return false;
        }
    }

    /// <summary>
    /// An unnamed regular file in <paramref name="directory"/>'s file system (open(2) with O_TMPFILE), open for
    /// writing: it has no name until <see cref="TryLinkUnnamed"/> gives it one, and the kernel frees it when it is
    /// closed without one, so a crashed process leaves nothing behind. Creating it does not lock the directory (a
    /// named create holds the directory's lock for the whole inode allocation), so several threads create in
    /// parallel. Null where the platform or the file system has no O_TMPFILE.
    /// </summary>
    public static SafeFileHandle? TryOpenUnnamed(string directory)
    {
        if (s_unnamedFlag == 0)
        {
            return null;
        }

        var fd = Open(directory, s_unnamedFlag | WriteOnly | CloseOnExec, CreateMode);
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        var error = Marshal.GetLastPInvokeError();
        return error is ErrorNotSupported or ErrorIsDirectory or ErrorInvalid or ErrorNoSuchFile
            ? null
            : throw new IOException($"Cannot create a temp file in {directory}: {new Win32Exception(error).Message}");
    }

    /// <summary>
    /// Gives an unnamed file (<see cref="TryOpenUnnamed"/>) the name <paramref name="path"/>, never replacing
    /// anything: false when the name exists. linkat(2) through /proc/self/fd, which needs no privilege (AT_EMPTY_PATH
    /// would need CAP_DAC_READ_SEARCH).
    /// </summary>
    public static bool TryLinkUnnamed(SafeFileHandle file, string path)
    {
        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            var source = string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{file.DangerousGetHandle()}");
            if (LinkAt(AtCurrentDirectory, source, AtCurrentDirectory, path, AtSymlinkFollow) == 0)
            {
                return true;
            }

            var error = Marshal.GetLastPInvokeError();
            return error == ErrorExists
                ? false
                : throw new IOException($"Linking a temp file to {path} failed: {new Win32Exception(error).Message}");
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    private static string LastError() => new Win32Exception(Marshal.GetLastPInvokeError()).Message;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LinkAt(int oldDirectory, string oldPath, int newDirectory, string newPath, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(SafeFileHandle fd, long offset, long count, uint flags);

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt2(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
