using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pop3Ingest.Pop3.Tests.Support;

/// <summary>
/// A POP3 server on a loopback port that runs a script per connection, for faults a real server will not
/// produce: stalls, drops, split writes, garbage. Every command received is recorded.
/// </summary>
internal sealed class ScriptedPop3Server : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<ScriptedConnection, Task> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly ConcurrentBag<Task> _sessions = [];

    private ScriptedPop3Server(Func<ScriptedConnection, Task> script)
    {
        _script = script;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public ConcurrentQueue<string> Commands { get; } = new();

    public ConcurrentQueue<Exception> Failures { get; } = new();

    public static ScriptedPop3Server Start(Func<ScriptedConnection, Task> script) => new(script);

    public Pop3ClientOptions Options(Action<Pop3ClientOptionsBuilder>? configure = null)
    {
        var builder = new Pop3ClientOptionsBuilder { Port = Port };
        configure?.Invoke(builder);
        return builder.Build();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(_sessions.ToArray()).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            socket.NoDelay = true;
            _sessions.Add(RunAsync(socket));
        }
    }

    private async Task RunAsync(Socket socket)
    {
        var connection = new ScriptedConnection(socket, Commands, _stop.Token);
        try
        {
            await _script(connection);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away; that is what many fault tests do.
        }
        catch (Exception e)
        {
            Failures.Enqueue(e);
        }
        finally
        {
            connection.Dispose();
        }
    }
}

/// <summary>Options for a client of the scripted server; plain and quick to time out by default.</summary>
internal sealed class Pop3ClientOptionsBuilder
{
    public int Port { get; set; }

    public Pop3Security Security { get; set; } = Pop3Security.None;

    public bool AllowInsecureAuth { get; set; } = true;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromMinutes(1);

    public bool UsePipelining { get; set; } = true;

    public int PipelineDepth { get; set; } = 32;

    public int MaxLineLength { get; set; } = 8 * 1024;

    public long MaxListingBytes { get; set; } = 1024 * 1024;

    public IPop3Trace? Trace { get; set; }

    public Pop3ClientOptions Build() => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        Security = Security,
        AllowInsecureAuth = AllowInsecureAuth,
        Timeout = Timeout,
        SessionTimeout = SessionTimeout,
        UsePipelining = UsePipelining,
        PipelineDepth = PipelineDepth,
        MaxLineLength = MaxLineLength,
        MaxListingBytes = MaxListingBytes,
        Trace = Trace,
    };
}

/// <summary>One accepted connection, as the script sees it.</summary>
internal sealed class ScriptedConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly ConcurrentQueue<string> _log;
    private readonly CancellationToken _stop;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    internal ScriptedConnection(Socket socket, ConcurrentQueue<string> log, CancellationToken stop)
    {
        _socket = socket;
        _log = log;
        _stop = stop;
    }

    public Task SendAsync(string text) => SendRawAsync(Encoding.Latin1.GetBytes(text));

    public Task SendLineAsync(string line) => SendAsync(line + "\r\n");

    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Length > 0)
        {
            await _socket.SendAsync(bytes, SocketFlags.None, _stop);
        }
    }

    /// <summary>Sends in pieces with a pause between them, so that each lands in its own TCP segment and read.</summary>
    public async Task DripAsync(ReadOnlyMemory<byte> bytes, int chunk, TimeSpan pause)
    {
        for (var offset = 0; offset < bytes.Length; offset += chunk)
        {
            await SendRawAsync(bytes.Slice(offset, Math.Min(chunk, bytes.Length - offset)));
            await Task.Delay(pause, _stop);
        }
    }

    /// <summary>Reads one command line; null when the client closed the connection.</summary>
    public async Task<string?> ReadCommandAsync()
    {
        while (true)
        {
            var lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (lf >= 0)
            {
                var line = Encoding.UTF8.GetString(_buffer, _start, lf - _start).TrimEnd('\r');
                _start = lf + 1;
                _log.Enqueue(line);
                return line;
            }

            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, _stop);
            if (read == 0)
            {
                return null;
            }

            _end += read;
        }
    }

    /// <summary>True when the client has already sent more than was read (it pipelined).</summary>
    public bool HasPendingInput => _end > _start || _socket.Available > 0;

    public async Task ExpectAsync(string command)
    {
        var actual = await ReadCommandAsync();
        if (actual != command)
        {
            throw new InvalidOperationException($"Expected '{command}', got '{actual ?? "<closed>"}'.");
        }
    }

    /// <summary>Waits until the client closes the connection (or the test ends).</summary>
    public async Task WaitForCloseAsync()
    {
        while (await ReadCommandAsync() is not null)
        {
        }
    }

    /// <summary>Aborts with a TCP reset instead of a clean close.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    public void Close() => _socket.Shutdown(SocketShutdown.Both);

    public void Dispose() => _socket.Dispose();
}
