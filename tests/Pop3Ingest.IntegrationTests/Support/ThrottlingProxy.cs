using System.Net;
using System.Net.Sockets;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>
/// A TCP proxy on loopback that caps the server-to-client bandwidth, so that a run lasts long enough for a kill
/// to land in the middle of it.
/// </summary>
internal sealed class ThrottlingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly int _bytesPerSecond;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;

    public ThrottlingProxy(int targetPort, int bytesPerSecond)
    {
        _targetPort = targetPort;
        _bytesPerSecond = bytesPerSecond;
        _listener.Start();
        _accept = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accept;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = Task.Run(() => PumpAsync(client));
        }
    }

    private async Task PumpAsync(TcpClient client)
    {
        using var _ = client;
        using var server = new TcpClient();
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            client.NoDelay = true;
            server.NoDelay = true;
            using var session = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var up = CopyAsync(client.GetStream(), server.GetStream(), int.MaxValue, session.Token);
            var down = CopyAsync(server.GetStream(), client.GetStream(), _bytesPerSecond, session.Token);
            await Task.WhenAny(up, down);
            await session.CancelAsync();
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static async Task CopyAsync(NetworkStream from, NetworkStream to, int bytesPerSecond, CancellationToken cancellationToken)
    {
        var buffer = new byte[bytesPerSecond == int.MaxValue ? 65536 : Math.Max(512, bytesPerSecond / 50)];
        var started = Environment.TickCount64;
        long sent = 0;
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                sent += read;
                if (bytesPerSecond != int.MaxValue)
                {
                    var due = started + (sent * 1000 / bytesPerSecond);
                    var wait = due - Environment.TickCount64;
                    if (wait > 0)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(wait), cancellationToken);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            try
            {
                to.Socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
    }
}
