using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Pop3Ingest.Worker.Options;

/// <summary>
/// Reads the <c>*File</c> keys (passwords, client secrets, connection strings): only a path that resolves, through
/// symbolic links as Kubernetes secret mounts use them, to a regular file of at most <see cref="MaxBytes"/>. A FIFO
/// would block the reader until something writes to it (past every timeout, and past SIGTERM), and a device such
/// as /dev/zero would never end; both are refused before a byte is read.
/// </summary>
internal static partial class SecretFile
{
    /// <summary>Far above any password, token or connection string, and small enough to read at every run.</summary>
    public const int MaxBytes = 64 * 1024;

    private const int ReadOnly = 0; // O_RDONLY
    private const int NonBlocking = 0x800; // O_NONBLOCK, the same on x86-64 and arm64: open(2) of a FIFO returns at once
    private const int CloseOnExec = 0x80000; // O_CLOEXEC
    private const int EmptyPath = 0x1000; // AT_EMPTY_PATH: statx(2) of the descriptor itself
    private const uint ModeAndSize = 0x2 | 0x200; // STATX_MODE | STATX_SIZE
    private const ushort TypeMask = 0xF000; // S_IFMT
    private const ushort RegularFile = 0x8000; // S_IFREG
    private const int ErrorNoSuchFile = 2; // ENOENT
    private const int ErrorNotDirectory = 20; // ENOTDIR

    /// <summary>Why <paramref name="path"/> cannot be used as a secret file, or null when it can.</summary>
    public static string? Problem(string path)
    {
        try
        {
            using var handle = OpenRegular(path, out _);
            return null;
        }
        catch (SecretFileException e)
        {
            return e.Message;
        }
    }

    /// <summary>The file's content without the trailing line break editors and kubectl add.</summary>
    /// <exception cref="SecretFileException">The path is missing, not a regular file, too large or unreadable.</exception>
    public static string Read(string path)
    {
        using var handle = OpenRegular(path, out var size);
        var buffer = new byte[size + 1];
        var total = 0;
        int read;
        try
        {
            // One byte more than fstat reported: a file that grew since is refused rather than cut.
            while (total < buffer.Length && (read = RandomAccess.Read(handle, buffer.AsSpan(total), total)) > 0)
            {
                total += read;
            }
        }
        catch (IOException e)
        {
            throw new SecretFileException($"the file {path} cannot be read: {e.Message}");
        }

        if (total > MaxBytes)
        {
            throw new SecretFileException($"the file {path} holds more than {MaxBytes} bytes, too many for a secret.");
        }

        return Encoding.UTF8.GetString(buffer, 0, total).TrimEnd('\r', '\n');
    }

    /// <summary>
    /// Opens without blocking and checks what was opened (not what the path named a moment before, which could have
    /// been swapped for a FIFO in between).
    /// </summary>
    private static SafeFileHandle OpenRegular(string path, out int size)
    {
        if (!OperatingSystem.IsLinux())
        {
            return OpenPortable(path, out size);
        }

        var fd = Open(path, ReadOnly | NonBlocking | CloseOnExec);
        if (fd < 0)
        {
            var error = Marshal.GetLastPInvokeError();
            throw new SecretFileException(error is ErrorNoSuchFile or ErrorNotDirectory
                ? $"the file {path} does not exist."
                : $"the file {path} cannot be read: {new Win32Exception(error).Message}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        Span<byte> status = stackalloc byte[256]; // struct statx: the same layout on every architecture
        if (StatX(fd, string.Empty, EmptyPath, ModeAndSize, ref MemoryMarshal.GetReference(status)) != 0)
        {
            var message = new Win32Exception(Marshal.GetLastPInvokeError()).Message;
            handle.Dispose();
            throw new SecretFileException($"the file {path} cannot be read: {message}");
        }

        var mode = BitConverter.ToUInt16(status[0x1C..]);
        var length = BitConverter.ToInt64(status[0x28..]);
        if ((mode & TypeMask) != RegularFile)
        {
            handle.Dispose();
            throw new SecretFileException($"{path} is not a regular file (a FIFO, device or directory would block or never end); point it at a file.");
        }

        if (length > MaxBytes)
        {
            handle.Dispose();
            throw new SecretFileException($"the file {path} holds {length} bytes, more than the {MaxBytes} a secret may have.");
        }

        size = (int)length;
        return handle;
    }

    /// <summary>Elsewhere (a developer's machine): the same rules as far as .NET can tell.</summary>
    private static SafeFileHandle OpenPortable(string path, out int size)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new SecretFileException($"the file {path} does not exist.");
        }

        if (info.Length > MaxBytes)
        {
            throw new SecretFileException($"the file {path} holds {info.Length} bytes, more than the {MaxBytes} a secret may have.");
        }

        size = (int)info.Length;
        try
        {
            return File.OpenHandle(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SecretFileException($"the file {path} cannot be read: {e.Message}");
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatX(int directory, string path, int flags, uint mask, ref byte status);
}

/// <summary>A secret file that cannot be used; the message names the path and why, never the content.</summary>
internal sealed class SecretFileException(string message) : IOException(message);
