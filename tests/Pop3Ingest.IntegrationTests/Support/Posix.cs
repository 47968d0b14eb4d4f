using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>A system account from /etc/passwd.</summary>
internal sealed record SystemAccount(string Name, uint Uid, uint Gid)
{
    /// <summary>Reads the account; fails naming the install script when it is missing.</summary>
    public static SystemAccount Require(string name)
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            // name:password:uid:gid:gecos:home:shell
            var fields = line.Split(':');
            if (fields.Length >= 4 && fields[0] == name
                && uint.TryParse(fields[2], CultureInfo.InvariantCulture, out var uid)
                && uint.TryParse(fields[3], CultureInfo.InvariantCulture, out var gid))
            {
                return new SystemAccount(name, uid, gid);
            }
        }

        throw new InvalidOperationException($"The system user '{name}' is missing. {UnpackedServers.InstallHint}");
    }
}

/// <summary>Small POSIX helpers for the server harnesses (they run as root on Linux).</summary>
internal static class Posix
{
    public static void SetMode(string path, string octal)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The POP3 test servers run on Linux only.");
        }

        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(octal, 8));
    }

    public static void Chown(string path, SystemAccount owner) => Chown(path, owner.Uid, owner.Gid);

    public static void Chown(string path, uint uid, uint gid)
    {
        if (NativeMethods.Chown(path, uid, gid) != 0)
        {
            throw new IOException($"chown {uid}:{gid} {path} failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>chown -R.</summary>
    public static void ChownTree(string path, SystemAccount owner)
    {
        Chown(path, owner);
        foreach (var entry in Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories))
        {
            Chown(entry, owner);
        }
    }

    public static async Task WriteFileAsync(string path, string content, string mode, SystemAccount? owner, CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(path, content, cancellationToken);
        SetMode(path, mode);
        if (owner is not null)
        {
            Chown(path, owner);
        }
    }

    /// <summary>Runs a program to its end; fails with its output when the exit code is not 0.</summary>
    public static Task<string> RunAsync(string fileName, IEnumerable<string> arguments, string? standardInput, CancellationToken cancellationToken) =>
        RunAsync(fileName, arguments, standardInput is null ? null : Encoding.UTF8.GetBytes(standardInput), environment: null, cancellationToken);

    /// <summary>Runs a program to its end, feeding it raw bytes; fails with its output when the exit code is not 0.</summary>
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, byte[]? standardInput,
        IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                startInfo.Environment[key] = value;
            }
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"{fileName} did not start.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        if (standardInput is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(standardInput, cancellationToken);
            await process.StandardInput.BaseStream.FlushAsync(cancellationToken);
        }

        process.StandardInput.Close();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', startInfo.ArgumentList)} did not finish within 30 s.");
        }

        var text = await output + await error;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', startInfo.ArgumentList)} exited with {process.ExitCode}: {text.Trim()}");
        }

        return text;
    }

    /// <summary>A SHA-512 crypt(3) hash, as /etc/shadow holds it.</summary>
    public static async Task<string> CryptAsync(string password, CancellationToken cancellationToken)
    {
        var output = await RunAsync("openssl", ["passwd", "-6", "-stdin"], password + "\n", cancellationToken);
        return output.Trim();
    }

    /// <summary>/etc/passwd with the user's home folder replaced (the copy is bind-mounted in a private namespace).</summary>
    public static string PasswdWithHome(string user, string home)
    {
        var builder = new StringBuilder();
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var fields = line.Split(':');
            if (fields.Length == 7 && fields[0] == user)
            {
                fields[5] = home;
                builder.AppendJoin(':', fields).Append('\n');
            }
            else
            {
                builder.Append(line).Append('\n');
            }
        }

        return builder.ToString();
    }

    /// <summary>/etc/shadow with the user's password hash set (the copy is bind-mounted in a private namespace).</summary>
    public static string ShadowWithPassword(string user, string hash)
    {
        var builder = new StringBuilder();
        var found = false;
        foreach (var line in File.ReadLines("/etc/shadow"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 2 && fields[0] == user)
            {
                fields[1] = hash;
                // No ageing: days since the epoch of the last change, no expiry.
                if (fields.Length >= 3)
                {
                    fields[2] = string.Empty;
                }

                builder.AppendJoin(':', fields).Append('\n');
                found = true;
            }
            else
            {
                builder.Append(line).Append('\n');
            }
        }

        if (!found)
        {
            builder.Append(user).Append(':').Append(hash).Append(":::::::\n");
        }

        return builder.ToString();
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
        public static extern int Chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);
    }
}
