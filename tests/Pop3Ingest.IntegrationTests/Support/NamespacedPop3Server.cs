using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>
/// The common life of the unpacked POP3 servers: a temporary folder, a start script run by
/// <c>unshare --mount --pid --fork --kill-child</c> (private bind mounts over compiled-in paths, and a PID namespace
/// whose end kills every process the server forked, socat children and daemonized helpers included), a free
/// loopback port with retries when someone else takes it first, and a readiness probe that waits for the greeting.
/// </summary>
internal abstract class NamespacedPop3Server : IPop3TestServer
{
    private const int MaxPortAttempts = 3;
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(20);
    private readonly OutputTail _output = new();
    private Process? _process;
    private int _disposed;

    protected NamespacedPop3Server(string name, string package)
    {
        UnpackedServers.RequireTools("unshare", "socat", "openssl");
        Name = name;
        Package = package;
        Version = UnpackedServers.Version(package);
        // CreateTempSubdirectory makes the folder 0700; the servers' users must traverse it to their mailboxes.
        RootDirectory = Directory.CreateTempSubdirectory($"p3i-{name}-").FullName;
        Posix.SetMode(RootDirectory, "755");
        PrivateDirectory = Path.Combine(RootDirectory, "private");
        Directory.CreateDirectory(PrivateDirectory);
        Posix.SetMode(PrivateDirectory, "700");
    }

    public string Name { get; }

    public string Package { get; }

    public string Version { get; }

    public string Host => "127.0.0.1";

    public int Port { get; private set; }

    public virtual int? TlsPort => null;

    public abstract bool OffersStls { get; }

    public string? CertificateSha256 => Certificate?.Sha256;

    public string User => MailUser.Name;

    public string Password { get; } = "Pw-" + Guid.NewGuid().ToString("N")[..12];

    public abstract string? ApopSecret { get; }

    public abstract Pop3CapabilityFlags ExpectedCapabilities { get; }

    public abstract IReadOnlyList<string> ExpectedSaslMechanisms { get; }

    /// <summary>The folder of this instance (configs, mailboxes, logs); removed on dispose.</summary>
    public string RootDirectory { get; }

    /// <summary>Root-only part of <see cref="RootDirectory"/> (password files, keys).</summary>
    protected string PrivateDirectory { get; }

    /// <summary>The system user that owns the mailbox (created by the install script).</summary>
    protected SystemAccount MailUser { get; } = SystemAccount.Require(DovecotServer.MailUserName);

    protected TestCertificate? Certificate { get; set; }

    public abstract Task DeliverAsync(byte[] message, CancellationToken cancellationToken = default);

    public abstract Task<int> MessageCountAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes configuration and mailbox before the first start.</summary>
    protected abstract Task PrepareAsync(CancellationToken cancellationToken);

    /// <summary>The body of the start script (run by /bin/sh -e inside the namespaces); it must exec the server last.</summary>
    protected abstract string BuildStartScript(int port);

    /// <summary>More text for <see cref="DiagnosticsTail"/> (log files of the server).</summary>
    protected virtual string ExtraDiagnostics(int lines) => string.Empty;

    /// <summary>The unshare process that holds the namespaces, while the server runs.</summary>
    internal int? ProcessId => _process?.Id;

    public string DiagnosticsTail(int lines = 40)
    {
        var builder = new StringBuilder();
        builder.Append("--- ").Append(Name).Append(" output (tail) ---").AppendLine();
        builder.AppendLine(_output.Tail(lines));
        builder.Append(ExtraDiagnostics(lines));
        return builder.ToString();
    }

    protected async Task StartInstanceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await PrepareAsync(cancellationToken);
            for (var attempt = 1; ; attempt++)
            {
                Port = FindFreePort();
                var script = Path.Combine(RootDirectory, "start.sh");
                await File.WriteAllTextAsync(script, BuildStartScript(Port), cancellationToken);
                _process = StartProcess(script);
                try
                {
                    await WaitUntilReadyAsync(cancellationToken);
                    return;
                }
                catch (InvalidOperationException) when (attempt < MaxPortAttempts && _output.Contains("in use"))
                {
                    // Someone took the free port between the probe and the bind.
                    await StopProcessAsync();
                }
            }
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopProcessAsync();
        try
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temp folder must not fail a test.
        }

        GC.SuppressFinalize(this);
    }

    private Process StartProcess(string script)
    {
        var startInfo = new ProcessStartInfo("unshare")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = RootDirectory,
        };
        // --kill-child: when unshare dies its child (PID 1 of the new namespace) gets SIGKILL, and with it every
        // process in the namespace; so does Kill(entireProcessTree) below.
        foreach (var argument in new[] { "--mount", "--pid", "--fork", "--kill-child", "--mount-proc", "--propagation", "private", "/bin/sh", "-e", script })
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => _output.Add(e.Data);
        process.ErrorDataReceived += (_, e) => _output.Add(e.Data);
        if (!process.Start())
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start {Name} through unshare.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return process;
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_startTimeout);
        string? lastProblem = null;
        while (true)
        {
            if (_process!.HasExited)
            {
                await _process.WaitForExitAsync(CancellationToken.None);
                throw new InvalidOperationException(
                    $"{Name} exited with code {_process.ExitCode} during start-up on 127.0.0.1:{Port}.{Environment.NewLine}{DiagnosticsTail()}");
            }

            try
            {
                using var client = new TcpClient(AddressFamily.InterNetwork);
                await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
                using var reader = new StreamReader(client.GetStream(), Encoding.Latin1);
                var greeting = await reader.ReadLineAsync(timeout.Token);
                if (greeting is not null && greeting.StartsWith("+OK", StringComparison.Ordinal))
                {
                    return;
                }

                lastProblem = $"greeting '{greeting}'";
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"{Name} did not greet on 127.0.0.1:{Port} within {s_startTimeout} (last problem: {lastProblem ?? "none"}).{Environment.NewLine}{DiagnosticsTail()}");
            }
            catch (Exception exception) when (exception is SocketException or IOException)
            {
                lastProblem = exception.Message;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"{Name} did not greet on 127.0.0.1:{Port} within {s_startTimeout} (last problem: {lastProblem ?? "none"}).{Environment.NewLine}{DiagnosticsTail()}");
            }
        }
    }

    private async Task StopProcessAsync()
    {
        var process = Interlocked.Exchange(ref _process, null);
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(wait.Token);
        }
        catch (Exception exception) when (exception is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Best effort: the process is gone, or the kernel reaps the namespace with unshare.
        }
        finally
        {
            process.Dispose();
        }
    }

    private static int FindFreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>Single-quotes a value for /bin/sh.</summary>
    protected static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Keeps the last lines a server printed.</summary>
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

        public bool Contains(string text)
        {
            lock (_lines)
            {
                return _lines.Any(line => line.Contains(text, StringComparison.OrdinalIgnoreCase));
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
}
