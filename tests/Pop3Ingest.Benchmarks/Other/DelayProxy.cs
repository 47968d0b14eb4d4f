using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Pop3Ingest.Benchmarks.Other;

/// <summary>
/// A TCP delay line on 127.0.0.1: every connection to <see cref="Port"/> is forwarded to the target port, and every
/// chunk read from either side is written to the other side half a round trip after it arrived. A request and its
/// response so cost one round trip more, as to a storage account far away, while throughput is not limited: the
/// reader of each direction queues chunks with their due times and reads on, and a writer per direction writes them in
/// order when they are due.
/// </summary>
/// A new connection also waits one round trip before its first byte goes on, as the TCP handshake to a far server
/// would make it; TLS is not emulated (Azurite here speaks plain HTTP).
internal sealed class DelayProxy : IAsyncDisposable
{
    private const int ChunkBytes = 64 * 1024;

    // What one direction may hold in flight (chunks of up to 64 KiB, so at most 32 MiB): far more than the
    // bandwidth-delay product of any queue or blob request here, so it does not limit throughput, but a side that
    // stops reading still pushes back on the sender as TCP would.
    private const int MaxChunksInFlight = 512;

    private readonly Socket _listener;
    private readonly int _targetPort;
    private readonly long _halfTripTicks;
    private readonly CancellationTokenSource _stopping = new();
    private readonly DelayClock _clock = new();
    private readonly Lock _lock = new();
    private readonly HashSet<Task> _connections = [];
    private readonly Task _acceptLoop;
    private int _disposed;

    private DelayProxy(int targetPort, TimeSpan roundTrip)
    {
        _targetPort = targetPort;
        _halfTripTicks = (long)(roundTrip.TotalSeconds / 2 * Stopwatch.Frequency);
        RoundTrip = roundTrip;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptLoopAsync(_stopping.Token);
    }

    /// <summary>The port to connect to instead of the target's.</summary>
    public int Port { get; }

    /// <summary>What a request and its response cost more than straight to the target.</summary>
    public TimeSpan RoundTrip { get; }

    /// <summary>Listens on a free loopback port and forwards to 127.0.0.1:<paramref name="targetPort"/>.</summary>
    public static DelayProxy Start(int targetPort, TimeSpan roundTrip)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(roundTrip, TimeSpan.Zero);
        return new DelayProxy(targetPort, roundTrip);
    }

    /// <summary>Stops listening and breaks every open connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        Task[] open;
        lock (_lock)
        {
            open = [.. _connections];
        }

        await Task.WhenAll(open);
        _clock.Dispose();
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException && cancellationToken.IsCancellationRequested)
            {
                return;
            }

            var accepted = Stopwatch.GetTimestamp();
            var connection = ForwardAsync(client, accepted, cancellationToken);
            lock (_lock)
            {
                _connections.Add(connection);
            }

            _ = connection.ContinueWith(
                t =>
                {
                    lock (_lock)
                    {
                        _connections.Remove(t);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <summary>One client connection: connects to the target, then runs both directions until both have ended.</summary>
    private async Task ForwardAsync(Socket client, long accepted, CancellationToken cancellationToken)
    {
        await Task.Yield();
        using var target = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using (client)
        {
            // Each chunk goes on as it comes due; Nagle's algorithm would hold small ones back for the previous ACK.
            client.NoDelay = true;
            target.NoDelay = true;
            using var broken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                await target.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _targetPort), broken.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                return;
            }

            // The handshake's round trip: the client believes it is connected already, so its first bytes would
            // reach a far server one and a half round trips after the connect began.
            var upstream = PumpAsync(client, target, notBefore: accepted + (3 * _halfTripTicks), broken);
            var downstream = PumpAsync(target, client, notBefore: 0, broken);
            await Task.WhenAll(upstream, downstream);
        }
    }

    /// <summary>
    /// One direction: a reader that stamps each chunk with its due time and queues it, and a writer that sends the
    /// chunks in order as they come due. End of stream is forwarded as a half-close when due; a failure on either
    /// side breaks the whole connection (both sockets are closed, which ends the other direction too).
    /// </summary>
    private async Task PumpAsync(Socket from, Socket to, long notBefore, CancellationTokenSource broken)
    {
        var queue = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(MaxChunksInFlight) { SingleReader = true, SingleWriter = true });
        var reader = ReadAsync(from, queue.Writer, notBefore, broken.Token);
        var writer = WriteAsync(queue.Reader, to, broken);
        try
        {
            await Task.WhenAll(reader, writer);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or ChannelClosedException)
        {
            await broken.CancelAsync();
            from.Close(0);
            to.Close(0);
        }
        finally
        {
            // Whatever the writer did not send goes back to the pool.
            while (queue.Reader.TryRead(out var left))
            {
                left.Return();
            }
        }
    }

    private async Task ReadAsync(Socket from, ChannelWriter<Chunk> queue, long notBefore, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
                int read;
                try
                {
                    read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw;
                }

                var due = Math.Max(Stopwatch.GetTimestamp() + _halfTripTicks, notBefore);
                if (read == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    await queue.WriteAsync(new Chunk(null, 0, due), cancellationToken);
                    return;
                }

                await queue.WriteAsync(new Chunk(buffer, read, due), cancellationToken);
            }
        }
        finally
        {
            queue.TryComplete();
        }
    }

    private async Task WriteAsync(ChannelReader<Chunk> queue, Socket to, CancellationTokenSource broken)
    {
        try
        {
            await foreach (var chunk in queue.ReadAllAsync(broken.Token))
            {
                try
                {
                    await _clock.WaitUntilAsync(chunk.Due, broken.Token);
                    if (chunk.Buffer is null)
                    {
                        to.Shutdown(SocketShutdown.Send);
                        return;
                    }

                    var sent = 0;
                    while (sent < chunk.Length)
                    {
                        sent += await to.SendAsync(chunk.Buffer.AsMemory(sent, chunk.Length - sent), SocketFlags.None, broken.Token);
                    }
                }
                finally
                {
                    chunk.Return();
                }
            }
        }
        catch
        {
            // Break the connection now: this direction's reader would otherwise read on into a queue nobody empties.
            await broken.CancelAsync();
            throw;
        }
    }

    /// <summary>Bytes read at one moment (a pooled buffer), or the end of the stream when <see cref="Buffer"/> is null.</summary>
    private readonly record struct Chunk(byte[]? Buffer, int Length, long Due)
    {
        public void Return()
        {
            if (Buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(Buffer);
            }
        }
    }
}
