using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>
/// A private Azurite (npm <c>azurite</c>): <c>azurite-blob</c> and <c>azurite-queue</c> as two processes on free
/// 127.0.0.1 ports, with their data in one temporary folder that <see cref="DisposeAsync"/> removes. Azurite verifies
/// Shared Key signatures and SAS tokens for the well-known account <c>devstoreaccount1</c>. <see cref="StopAsync"/> and
/// <see cref="StartAgainAsync"/> take it down and bring it back on the same ports and data (an outage).
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    public const string AccountName = "devstoreaccount1";

    /// <summary>Azurite's published key (the same in every emulator; not a secret).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string InstallHint = "Run deploy/local/install-test-deps.sh as root (it runs `npm install -g azurite@3.35.0`).";
    private const int MaxPortAttempts = 3;
    private const int SigTerm = 15;
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(20);

    private readonly string _blobBinary;
    private readonly string _queueBinary;
    private readonly TestCertificate? _certificate;
    private readonly OutputTail _output = new();
    private Process? _blob;
    private Process? _queue;
    private int _disposed;

    private AzuriteServer(string location, string blobBinary, string queueBinary, TestCertificate? certificate)
    {
        Location = location;
        _blobBinary = blobBinary;
        _queueBinary = queueBinary;
        _certificate = certificate;
    }

    /// <summary>The data folder (<c>--location</c>).</summary>
    public string Location { get; }

    public int BlobPort { get; private set; }

    public int QueuePort { get; private set; }

    public Uri BlobEndpoint => new($"{Scheme}://127.0.0.1:{BlobPort}/{AccountName}");

    public Uri QueueEndpoint => new($"{Scheme}://127.0.0.1:{QueuePort}/{AccountName}");

    /// <summary>The certificate Azurite serves HTTPS with, when started by <see cref="StartWithOAuthAsync"/>.</summary>
    internal TestCertificate? Certificate => _certificate;

    private string Scheme => _certificate is null ? "http" : "https";

    /// <summary>Account key and explicit endpoints, as for a storage account on other ports.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={BlobEndpoint};QueueEndpoint={QueueEndpoint};";

    public bool IsRunning => _blob is { HasExited: false } && _queue is { HasExited: false };

    public static Task<AzuriteServer> StartAsync(CancellationToken cancellationToken = default) => StartAsync(https: false, cancellationToken);

    /// <summary>
    /// Azurite over HTTPS (a certificate made for the test, in its data folder) with <c>--oauth basic</c>: besides keys
    /// and SAS it takes bearer tokens, checking their issuer, audience and lifetime but not their signature.
    /// </summary>
    public static Task<AzuriteServer> StartWithOAuthAsync(CancellationToken cancellationToken = default) => StartAsync(https: true, cancellationToken);

    private static async Task<AzuriteServer> StartAsync(bool https, CancellationToken cancellationToken)
    {
        var blob = FindBinary("azurite-blob");
        var queue = FindBinary("azurite-queue");
        var location = Directory.CreateTempSubdirectory("p3i-azurite-").FullName;
        var certificate = https ? await TestCertificate.CreateAsync(location, cancellationToken) : null;
        var server = new AzuriteServer(location, blob, queue, certificate);
        try
        {
            // Free ports can be taken by someone else before Azurite binds them: retry with new ones.
            for (var attempt = 1; ; attempt++)
            {
                (server.BlobPort, server.QueuePort) = FindFreePorts();
                try
                {
                    await server.StartProcessesAsync(cancellationToken);
                    return server;
                }
                catch (PortInUseException) when (attempt < MaxPortAttempts)
                {
                    await server.KillAsync();
                }
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Stops both services with SIGTERM, as an orchestrator would, and waits for them to exit. Azurite saves its
    /// metadata on a 5 s timer and on a clean shutdown; SIGKILL would lose writes it had already acknowledged.
    /// </summary>
    public async Task StopAsync()
    {
        await Task.WhenAll(TerminateAsync(_blob), TerminateAsync(_queue));
    }

    /// <summary>Stops the Queue service only (SIGTERM); the Blob service keeps running.</summary>
    public Task StopQueueAsync() => TerminateAsync(_queue);

    /// <summary>Starts whatever was stopped again, on the same ports and data folder.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("Azurite is running.");
        }

        // A port freed a moment ago may still be held by a closing socket; Azurite's own start fails then.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartProcessesAsync(cancellationToken);
                return;
            }
            catch (PortInUseException) when (attempt < 10)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }
    }

    /// <summary>The last lines both processes printed, for assertion messages.</summary>
    public string DiagnosticsTail(int lines = 40) => $"--- azurite output (tail) ---{Environment.NewLine}{_output.Tail(lines)}";

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await KillAsync();
        try
        {
            Directory.Delete(Location, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temp folder must not fail a test.
        }
    }

    /// <summary>Starts each service that is not running, and waits until both listen.</summary>
    private async Task StartProcessesAsync(CancellationToken cancellationToken)
    {
        if (_blob is not { HasExited: false })
        {
            _blob?.Dispose();
            _blob = StartProcess(_blobBinary, "--blobHost", "127.0.0.1", "--blobPort", BlobPort);
        }

        if (_queue is not { HasExited: false })
        {
            _queue?.Dispose();
            _queue = StartProcess(_queueBinary, "--queueHost", "127.0.0.1", "--queuePort", QueuePort);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_startTimeout);
        try
        {
            await Task.WhenAll(WaitUntilListeningAsync(_blob, BlobPort, timeout.Token), WaitUntilListeningAsync(_queue, QueuePort, timeout.Token));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"Azurite did not listen on 127.0.0.1:{BlobPort} (blob) and 127.0.0.1:{QueuePort} (queue) within {s_startTimeout}.{Environment.NewLine}{DiagnosticsTail()}");
        }
    }

    private Process StartProcess(string binary, string hostOption, string host, string portOption, int port)
    {
        var startInfo = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in new[]
                 {
                     hostOption, host, portOption, port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     // No --skipApiVersionCheck: the adapters' pinned service version must be one Azurite accepts.
                     "--location", Location, "--silent", "--disableTelemetry",
                 })
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (_certificate is { } certificate)
        {
            foreach (var argument in new[] { "--cert", certificate.CertificatePemPath, "--key", certificate.KeyPemPath, "--oauth", "basic" })
            {
                startInfo.ArgumentList.Add(argument);
            }
        }

        var process = new Process { StartInfo = startInfo };
        var name = Path.GetFileName(binary);
        process.OutputDataReceived += (_, e) => _output.Add(e.Data is null ? null : $"{name}: {e.Data}");
        process.ErrorDataReceived += (_, e) => _output.Add(e.Data is null ? null : $"{name}: {e.Data}");
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

    private async Task WaitUntilListeningAsync(Process process, int port, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(CancellationToken.None);
                var tail = DiagnosticsTail();
                if (tail.Contains("EADDRINUSE", StringComparison.Ordinal))
                {
                    throw new PortInUseException($"Azurite could not bind 127.0.0.1:{port}.{Environment.NewLine}{tail}");
                }

                throw new InvalidOperationException($"{process.StartInfo.FileName} exited with code {process.ExitCode} during start-up.{Environment.NewLine}{tail}");
            }

            try
            {
                using var probe = new TcpClient(AddressFamily.InterNetwork);
                await probe.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
        }
    }

    private async Task TerminateAsync(Process? process)
    {
        if (process is null || process.HasExited)
        {
            return;
        }

        _ = NativeMethods.Kill(process.Id, SigTerm);
        using var wait = new CancellationTokenSource(s_stopTimeout);
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"Azurite did not exit within {s_stopTimeout} of SIGTERM and was killed.{Environment.NewLine}{DiagnosticsTail()}");
        }
    }

    private async Task KillAsync()
    {
        foreach (var process in new[] { _blob, _queue })
        {
            if (process is null)
            {
                continue;
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
                // Already gone, or stuck beyond help; the folder is removed either way.
            }

            process.Dispose();
        }

        _blob = null;
        _queue = null;
    }

    private static (int Blob, int Queue) FindFreePorts()
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

    private static string FindBinary(string name)
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .Concat([Path.Combine("/usr/local/bin", name), Path.Combine("/usr/bin", name)]);
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"Azurite is not installed: no '{name}' on PATH, in /usr/local/bin or /usr/bin. {InstallHint}");
    }

    private sealed class PortInUseException(string message) : InvalidOperationException(message);

    /// <summary>Keeps the last lines the processes printed.</summary>
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

        public string Tail(int count)
        {
            lock (_lines)
            {
                var builder = new StringBuilder();
                foreach (var line in _lines.TakeLast(count))
                {
                    builder.AppendLine(line);
                }

                return builder.ToString();
            }
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);
    }
}
