using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>Settings for one private Dovecot instance.</summary>
public sealed class DovecotServerOptions
{
    /// <summary>Accounts in the passwd-file; passwords are stored as {PLAIN} so APOP can work.</summary>
    public IReadOnlyList<(string Name, string Password)> Users { get; init; } = [];

    /// <summary>Adds the APOP mechanism; the greeting then carries a &lt;timestamp&gt; (RFC 1939 §7).</summary>
    public bool EnableApop { get; init; } = true;

    /// <summary>Dovecot's mail_max_userip_connections: parallel sessions per user and client address.</summary>
    public int MaxUserIpConnections { get; init; } = 100;

    /// <summary>Appended verbatim to the generated dovecot.conf; later settings win.</summary>
    public string? ExtraConfig { get; init; }

    /// <summary>How long StartAsync waits for both listeners and the greeting.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(20);
}

/// <summary>
/// A private Dovecot (POP3 only) on two free loopback ports: <see cref="Port"/> (plain, STLS advertised)
/// and <see cref="TlsPort"/> (implicit TLS). Everything lives in one temporary folder that
/// <see cref="DisposeAsync"/> removes. Needs root and the packages from deploy/local/install-test-deps.sh.
/// </summary>
public sealed class DovecotServer : IAsyncDisposable
{
    /// <summary>System user that owns the maildirs; Dovecot refuses to run mail processes as root.</summary>
    public const string MailUserName = "p3itest";

    private const string InstallHint = "Run deploy/local/install-test-deps.sh as root to install the test servers.";
    private static readonly string[] s_binaryCandidates = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot", "/sbin/dovecot"];
    private static readonly SemaphoreSlim s_mailUserLock = new(1, 1);
    private const int MaxPortAttempts = 3;

    private readonly Process _process;
    private readonly OutputTail _output;
    private readonly MailAccount _mailAccount;
    private readonly Lock _deliveryLock = new();
    private long _lastDeliveryMicroseconds;
    private int _deliverySequence;
    private int _disposed;

    private DovecotServer(
        string rootDirectory, int port, int tlsPort, Process process, OutputTail output,
        MailAccount mailAccount, X509Certificate2 certificate, string certificatePemPath)
    {
        RootDirectory = rootDirectory;
        Port = port;
        TlsPort = tlsPort;
        _process = process;
        _output = output;
        _mailAccount = mailAccount;
        Certificate = certificate;
        CertificatePemPath = certificatePemPath;
        CertificateSha256 = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
    }

    public string Host => "127.0.0.1";

    /// <summary>Plain POP3 listener; CAPA advertises STLS.</summary>
    public int Port { get; }

    /// <summary>pop3s listener: TLS from the first byte.</summary>
    public int TlsPort { get; }

    /// <summary>The server certificate (public part only): self-signed, CN=localhost, SAN DNS:localhost and IP:127.0.0.1.</summary>
    public X509Certificate2 Certificate { get; }

    public string CertificatePemPath { get; }

    /// <summary>SHA-256 of the certificate's DER bytes as lowercase hex without separators.</summary>
    public string CertificateSha256 { get; }

    /// <summary>The temporary folder holding config, logs, runtime sockets and mail.</summary>
    public string RootDirectory { get; }

    public string ConfigPath => Path.Combine(RootDirectory, "dovecot.conf");

    public string LogPath => Path.Combine(RootDirectory, "dovecot.log");

    private string MailRoot => Path.Combine(RootDirectory, "mail");

    public static async Task<DovecotServer> StartAsync(DovecotServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (name, password) in options.Users)
        {
            ValidateUserName(name);
            // passwd-file is colon separated and line based.
            if (password.AsSpan().IndexOfAny(":\r\n") >= 0)
            {
                throw new ArgumentException($"The password of '{name}' contains ':' or a line break, which a passwd-file cannot hold.", nameof(options));
            }
        }

        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("DovecotServer runs on Linux only (Debian 12 with deploy/local/install-test-deps.sh).");
        }

        var binary = FindBinary();
        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException(
                "DovecotServer must run as root: Dovecot's master switches to the 'dovecot' user and to the mail user " +
                $"'{MailUserName}'. Run the integration tests as root.");
        }

        var mailAccount = await EnsureMailAccountAsync(cancellationToken);

        // CreateTempSubdirectory makes the folder 0700, but the auth process (user 'dovecot') has to
        // reach the passwd-file and the mail processes (p3itest) the maildirs through it.
        var root = Directory.CreateTempSubdirectory("p3i-dovecot-").FullName;
        X509Certificate2? certificate = null;
        try
        {
            SetMode(root, "755");
            var mailRoot = Path.Combine(root, "mail");
            Directory.CreateDirectory(mailRoot);
            SetMode(mailRoot, "755");
            Chown(mailRoot, mailAccount);

            var passwdPath = Path.Combine(root, "passwd");
            await File.WriteAllTextAsync(passwdPath, BuildPasswdFile(options.Users), cancellationToken);
            SetMode(passwdPath, "644");

            var certificatePemPath = Path.Combine(root, "cert.pem");
            var keyPemPath = Path.Combine(root, "key.pem");
            certificate = await CreateCertificateAsync(certificatePemPath, keyPemPath, cancellationToken);

            // Free ports can be taken by someone else before Dovecot binds them: retry with new ones.
            for (var attempt = 1; ; attempt++)
            {
                var (port, tlsPort) = FindFreePorts();
                await File.WriteAllTextAsync(
                    Path.Combine(root, "dovecot.conf"),
                    BuildConfig(root, passwdPath, certificatePemPath, keyPemPath, port, tlsPort, mailAccount, options),
                    cancellationToken);

                var output = new OutputTail();
                var process = StartProcess(binary, Path.Combine(root, "dovecot.conf"), output);
                var server = new DovecotServer(root, port, tlsPort, process, output, mailAccount, certificate, certificatePemPath);
                try
                {
                    await server.WaitUntilReadyAsync(options.StartTimeout, cancellationToken);
                    return server;
                }
                catch (PortInUseException) when (attempt < MaxPortAttempts)
                {
                    await server.StopProcessAsync();
                    TryDelete(Path.Combine(root, "dovecot.log"));
                }
                catch
                {
                    await server.StopProcessAsync();
                    throw;
                }
            }
        }
        catch
        {
            certificate?.Dispose();
            TryDeleteDirectory(root);
            throw;
        }
    }

    /// <summary>The user's maildir (with cur, new and tmp below it).</summary>
    public string MaildirOf(string user)
    {
        ValidateUserName(user);
        return Path.Combine(MailRoot, user);
    }

    /// <summary>
    /// Drops a message into the user's Maildir/new the way an MDA does (write to tmp, rename into new).
    /// Messages delivered one after another get increasing UIDs when Dovecot next scans the folder:
    /// it sorts new files by the seconds and the M&lt;microseconds&gt; part of their names.
    /// The bytes are stored as given; Dovecot sends bare LF as CRLF.
    /// </summary>
    public void Deliver(string user, byte[] message)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var maildir = MaildirOf(user);
        EnsureMaildir(maildir);

        var fileName = NextMaildirFileName();
        var tmpPath = Path.Combine(maildir, "tmp", fileName);
        File.WriteAllBytes(tmpPath, message);
        SetMode(tmpPath, "600");
        Chown(tmpPath, _mailAccount);
        File.Move(tmpPath, Path.Combine(maildir, "new", fileName));
    }

    /// <summary>Full paths of the user's messages in new and cur, ordered by file name (delivery order for <see cref="Deliver"/>).</summary>
    public IReadOnlyList<string> MessageFiles(string user)
    {
        var maildir = MaildirOf(user);
        return new[] { "new", "cur" }
            .Select(sub => Path.Combine(maildir, sub))
            .Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFiles)
            .OrderBy(Path.GetFileName, StringComparer.Ordinal)
            .ToList();
    }

    public int MessageCount(string user) => MessageFiles(user).Count;

    /// <summary>The last lines of Dovecot's log file and of its stdout/stderr, for assertion messages.</summary>
    public string DiagnosticsTail(int lines = 40)
    {
        var builder = new StringBuilder();
        builder.Append("--- ").Append(LogPath).AppendLine(" (tail) ---");
        try
        {
            if (File.Exists(LogPath))
            {
                foreach (var line in File.ReadLines(LogPath).TakeLast(lines))
                {
                    builder.AppendLine(line);
                }
            }
            else
            {
                builder.AppendLine("(no log file)");
            }
        }
        catch (IOException exception)
        {
            builder.Append("(cannot read: ").Append(exception.Message).AppendLine(")");
        }

        builder.AppendLine("--- dovecot stdout/stderr (tail) ---");
        builder.AppendLine(_output.Tail(lines));
        return builder.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopProcessAsync();
        Certificate.Dispose();
        TryDeleteDirectory(RootDirectory);
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var token = timeoutSource.Token;
        string? lastProblem = null;
        var tlsPortReady = false;

        while (true)
        {
            if (_process.HasExited)
            {
                // Let the stdout/stderr readers finish so the tail is complete.
                await _process.WaitForExitAsync(CancellationToken.None);
                var diagnostics = DiagnosticsTail();
                if (diagnostics.Contains("Address already in use", StringComparison.Ordinal))
                {
                    throw new PortInUseException(
                        $"Dovecot could not bind 127.0.0.1:{Port} or 127.0.0.1:{TlsPort}.{Environment.NewLine}{diagnostics}");
                }

                throw new InvalidOperationException(
                    $"Dovecot exited with code {_process.ExitCode} during start-up ({ConfigPath}).{Environment.NewLine}{diagnostics}");
            }

            try
            {
                // Probe the pop3s port only until it first accepts: every probe is a log line.
                if (!tlsPortReady)
                {
                    await ProbeTlsPortAsync(token);
                    tlsPortReady = true;
                }

                await ProbePlainPortAsync(token);
                return;
            }
            catch (OperationCanceledException) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw TimeoutError(timeout, lastProblem);
            }
            catch (Exception exception) when (exception is SocketException or IOException or ProbeException)
            {
                lastProblem = exception.Message;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw TimeoutError(timeout, lastProblem);
            }
        }
    }

    private TimeoutException TimeoutError(TimeSpan timeout, string? lastProblem) =>
        new($"Dovecot did not answer on 127.0.0.1:{Port} (plain) and 127.0.0.1:{TlsPort} (pop3s) within {timeout}. " +
            $"Last problem: {lastProblem ?? "none"}. Config: {ConfigPath}.{Environment.NewLine}{DiagnosticsTail()}");

    private async Task ProbeTlsPortAsync(CancellationToken cancellationToken)
    {
        using var tls = new TcpClient(AddressFamily.InterNetwork);
        await tls.ConnectAsync(IPAddress.Loopback, TlsPort, cancellationToken);
    }

    private async Task ProbePlainPortAsync(CancellationToken cancellationToken)
    {
        using var plain = new TcpClient(AddressFamily.InterNetwork);
        await plain.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
        using var reader = new StreamReader(plain.GetStream(), Encoding.Latin1);
        var greeting = await reader.ReadLineAsync(cancellationToken);
        if (greeting is null || !greeting.StartsWith("+OK", StringComparison.Ordinal))
        {
            throw new ProbeException($"unexpected greeting '{greeting}'");
        }
    }

    private async Task StopProcessAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // -F keeps the master in the foreground, so this reaches it and the services it forked.
                _process.Kill(entireProcessTree: true);
            }

            using var waitSource = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(waitSource.Token);
        }
        catch (Exception exception) when (exception is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Best effort: the process is gone or will be reaped with the test host.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static Process StartProcess(string binary, string configPath, OutputTail output)
    {
        var startInfo = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            // Dovecot's processes inherit the caller's stdout and keep it open; never hand them the test host's.
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        startInfo.ArgumentList.Add("-F");
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(configPath);

        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => output.Add(e.Data);
        process.ErrorDataReceived += (_, e) => output.Add(e.Data);
        if (!process.Start())
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start {binary}.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return process;
    }

    private static string BuildConfig(
        string root, string passwdPath, string certificatePemPath, string keyPemPath,
        int port, int tlsPort, MailAccount mail, DovecotServerOptions options)
    {
        var mechanisms = options.EnableApop ? "plain login apop" : "plain login";
        var config = $$"""
            # Generated by Pop3Ingest.IntegrationTests.Support.DovecotServer; self-contained, reads nothing under /etc/dovecot.
            base_dir = {{root}}/run
            state_dir = {{root}}/state
            log_path = {{root}}/dovecot.log
            info_log_path = {{root}}/dovecot.log
            protocols = pop3
            listen = 127.0.0.1

            # ssl = yes (not "required") so the plain listener advertises STLS and still accepts USER/PASS.
            ssl = yes
            ssl_cert = <{{certificatePemPath}}
            ssl_key = <{{keyPemPath}}
            disable_plaintext_auth = no
            # APOP needs the plaintext password on the server side (RFC 1939 §7): passwd-file has {PLAIN}.
            auth_mechanisms = {{mechanisms}}
            auth_verbose = yes

            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u {{passwdPath}}
            }
            userdb {
              driver = static
              args = uid={{mail.Uid}} gid={{mail.Gid}} home={{root}}/mail/%u
            }
            # Dovecot refuses mail uids/gids outside these ranges (first_valid_uid defaults to 500);
            # allow exactly the test mail user.
            first_valid_uid = {{mail.Uid}}
            last_valid_uid = {{mail.Uid}}
            first_valid_gid = {{mail.Gid}}
            last_valid_gid = {{mail.Gid}}

            mail_location = maildir:{{root}}/mail/%u
            pop3_uidl_format = %08Xu%08Xv
            # Keeps RETR from moving files new -> cur with the S flag, so tests see the files they delivered.
            pop3_no_flag_updates = yes
            mail_max_userip_connections = {{options.MaxUserIpConnections}}

            service pop3-login {
              inet_listener pop3 {
                address = 127.0.0.1
                port = {{port}}
              }
              inet_listener pop3s {
                address = 127.0.0.1
                port = {{tlsPort}}
                ssl = yes
              }
            }

            """;
        return string.IsNullOrEmpty(options.ExtraConfig)
            ? config
            : config + "# ExtraConfig" + "\n" + options.ExtraConfig + "\n";
    }

    private static string BuildPasswdFile(IReadOnlyList<(string Name, string Password)> users)
    {
        var builder = new StringBuilder();
        foreach (var (name, password) in users)
        {
            builder.Append(name).Append(":{PLAIN}").Append(password).Append('\n');
        }

        return builder.ToString();
    }

    private static async Task<X509Certificate2> CreateCertificateAsync(string certificatePemPath, string keyPemPath, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));

        var now = DateTimeOffset.UtcNow;
        using var withKey = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        await File.WriteAllTextAsync(keyPemPath, key.ExportPkcs8PrivateKeyPem(), cancellationToken);
        // Dovecot reads ssl_key as root while parsing the config ("<file"); nobody else needs it.
        SetMode(keyPemPath, "600");
        await File.WriteAllTextAsync(certificatePemPath, withKey.ExportCertificatePem(), cancellationToken);
        SetMode(certificatePemPath, "644");
        return X509CertificateLoader.LoadCertificate(withKey.RawData);
    }

    private static (int Port, int TlsPort) FindFreePorts()
    {
        // Both listeners are open at the same time so the two ports differ.
        var first = new TcpListener(IPAddress.Loopback, 0);
        var second = new TcpListener(IPAddress.Loopback, 0);
        first.Start();
        try
        {
            second.Start();
            try
            {
                return (((IPEndPoint)first.LocalEndpoint).Port, ((IPEndPoint)second.LocalEndpoint).Port);
            }
            finally
            {
                second.Stop();
            }
        }
        finally
        {
            first.Stop();
        }
    }

    private static string FindBinary()
    {
        var pathEntries = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "dovecot"));
        foreach (var candidate in s_binaryCandidates.Concat(pathEntries))
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"Dovecot is not installed: no 'dovecot' binary in {string.Join(", ", s_binaryCandidates)} or on PATH. {InstallHint}");
    }

    private static async Task<MailAccount> EnsureMailAccountAsync(CancellationToken cancellationToken)
    {
        if (MailAccount.TryRead(MailUserName) is { } existing)
        {
            return existing;
        }

        await s_mailUserLock.WaitAsync(cancellationToken);
        try
        {
            if (MailAccount.TryRead(MailUserName) is { } created)
            {
                return created;
            }

            // install-test-deps.sh creates the user; this covers machines set up before it did.
            var startInfo = new ProcessStartInfo("useradd")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[] { "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", MailUserName })
            {
                startInfo.ArgumentList.Add(argument);
            }

            string error;
            try
            {
                using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("useradd did not start.");
                var errorTask = process.StandardError.ReadToEndAsync(cancellationToken);
                await process.StandardOutput.ReadToEndAsync(cancellationToken);
                await process.WaitForExitAsync(cancellationToken);
                error = await errorTask;
            }
            catch (System.ComponentModel.Win32Exception exception)
            {
                error = exception.Message;
            }

            // Another test process may have created it at the same time; only the result matters.
            return MailAccount.TryRead(MailUserName)
                ?? throw new InvalidOperationException($"The mail user '{MailUserName}' is missing and useradd failed: {error.Trim()} {InstallHint}");
        }
        finally
        {
            s_mailUserLock.Release();
        }
    }

    private void EnsureMaildir(string maildir)
    {
        foreach (var directory in new[] { maildir, Path.Combine(maildir, "cur"), Path.Combine(maildir, "new"), Path.Combine(maildir, "tmp") })
        {
            if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory);
                SetMode(directory, "700");
                Chown(directory, _mailAccount);
            }
        }
    }

    private string NextMaildirFileName()
    {
        long microseconds;
        int sequence;
        lock (_deliveryLock)
        {
            // Strictly increasing time stamps make Dovecot's UID order equal the delivery order.
            microseconds = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000, _lastDeliveryMicroseconds + 1);
            _lastDeliveryMicroseconds = microseconds;
            sequence = ++_deliverySequence;
        }

        // <seconds>.M<usec>P<pid>Q<n>.<host> (the Maildir naming Dovecot itself uses); the zero-padded
        // microseconds also make an ordinal sort of the names follow delivery order.
        var host = Environment.MachineName.Replace('/', '_').Replace(':', '_').Replace('.', '_');
        return FormattableString.Invariant(
            $"{microseconds / 1_000_000}.M{microseconds % 1_000_000:D6}P{Environment.ProcessId}Q{sequence}.{host}");
    }

    private static void ValidateUserName(string user)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        if (user is "." or ".." || user.AsSpan().IndexOfAny(":/\\\r\n\t ") >= 0)
        {
            throw new ArgumentException($"User name '{user}' cannot be used as a passwd-file entry and a folder name.", nameof(user));
        }
    }

    private static void SetMode(string path, string octal)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("DovecotServer runs on Linux only.");
        }

        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(octal, 8));
    }

    private static void Chown(string path, MailAccount owner)
    {
        if (NativeMethods.Chown(path, owner.Uid, owner.Gid) != 0)
        {
            throw new IOException($"chown {owner.Uid}:{owner.Gid} {path} failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Best effort.
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temp folder must not fail a test.
        }
    }

    private sealed record MailAccount(uint Uid, uint Gid)
    {
        public static MailAccount? TryRead(string name)
        {
            // name:password:uid:gid:gecos:home:shell
            foreach (var line in File.ReadLines("/etc/passwd"))
            {
                var fields = line.Split(':');
                if (fields.Length >= 4 && fields[0] == name
                    && uint.TryParse(fields[2], System.Globalization.CultureInfo.InvariantCulture, out var uid)
                    && uint.TryParse(fields[3], System.Globalization.CultureInfo.InvariantCulture, out var gid))
                {
                    return new MailAccount(uid, gid);
                }
            }

            return null;
        }
    }

    /// <summary>Keeps the last lines Dovecot printed (config errors go to stderr before the log file exists).</summary>
    private sealed class OutputTail
    {
        private const int Capacity = 200;
        private readonly Queue<string> _lines = new();

        public void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > Capacity)
                {
                    _lines.Dequeue();
                }
            }
        }

        public string Tail(int lines)
        {
            lock (_lines)
            {
                return _lines.Count == 0 ? "(nothing)" : string.Join(Environment.NewLine, _lines.TakeLast(lines));
            }
        }
    }

    private sealed class PortInUseException(string message) : InvalidOperationException(message);

    private sealed class ProbeException(string message) : Exception(message);

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
        public static extern int Chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);
    }
}
