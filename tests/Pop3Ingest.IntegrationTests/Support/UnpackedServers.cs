namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>
/// The POP3 servers that deploy/local/install-test-deps.sh unpacks side by side (they conflict as Debian packages)
/// under /opt/pop3ingest/servers/&lt;package&gt;, each with a .version file.
/// </summary>
internal static class UnpackedServers
{
    public const string InstallHint = "Run deploy/local/install-test-deps.sh as root to install the test servers.";

    public static string Root =>
        Environment.GetEnvironmentVariable("POP3INGEST_SERVERS_ROOT") is { Length: > 0 } root ? root : "/opt/pop3ingest/servers";

    /// <summary>The full path of a file inside an unpacked package; fails clearly when it is missing.</summary>
    public static string File(string package, string relativePath)
    {
        var path = Path.Combine(Root, package, relativePath);
        if (!System.IO.File.Exists(path))
        {
            throw new InvalidOperationException($"{package} is not installed: {path} is missing. {InstallHint}");
        }

        return path;
    }

    /// <summary>The Debian version of an unpacked package.</summary>
    public static string Version(string package)
    {
        var path = Path.Combine(Root, package, ".version");
        if (!System.IO.File.Exists(path))
        {
            throw new InvalidOperationException($"{package} is not installed: {path} is missing. {InstallHint}");
        }

        return System.IO.File.ReadAllText(path).Trim();
    }

    /// <summary>Checks the host tools every namespaced server needs.</summary>
    public static void RequireTools(params string[] tools)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The POP3 test servers run on Linux only (Debian 12 with deploy/local/install-test-deps.sh).");
        }

        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException("The POP3 test servers need root (mount namespaces, user switches). Run the integration tests as root.");
        }

        foreach (var tool in tools)
        {
            if (FindOnPath(tool) is null)
            {
                throw new InvalidOperationException($"'{tool}' is not on PATH. {InstallHint}");
            }
        }
    }

    public static string? FindOnPath(string tool)
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"]);
        return directories.Select(directory => Path.Combine(directory, tool)).FirstOrDefault(System.IO.File.Exists);
    }
}
