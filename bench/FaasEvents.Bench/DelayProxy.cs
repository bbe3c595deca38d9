using System.Net;
using System.Net.Sockets;
using FaasEvents.DevStorage;

namespace FaasEvents.Bench;

/// <summary>
/// A loopback TCP proxy in front of storage that holds each request for a fixed time, so everything behind it (this
/// process, and child processes given its port) sees storage as far away as Azure's is. A request is a burst of bytes
/// from the client after a pause: its first chunk waits <see cref="Delay"/>, the rest of its body follows at once, and
/// responses pass straight through (one delay per request, e.g. 8 ms for a same-region Azure Blob request).
/// </summary>
internal sealed class DelayProxy : IAsyncDisposable
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(2);
    private readonly TcpListener listener;
    private readonly int target;
    private readonly CancellationTokenSource stop = new();
    private readonly Task accepting;

    private DelayProxy(int target, TimeSpan delay)
    {
        this.target = target;
        Delay = delay;
        Port = AzuriteProcess.GetFreePort();
        listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Start();
        accepting = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public TimeSpan Delay { get; }

    /// <summary>Requests delayed so far.</summary>
    public long Requests => Interlocked.Read(ref requests);

    private long requests;

    public static DelayProxy Start(int targetPort, TimeSpan delay) => new(targetPort, delay);

    /// <summary>A connection string pointing at the proxy instead of storage.</summary>
    public string Rewrite(string connectionString, int storagePort) =>
        connectionString.Replace($":{storagePort}/", $":{Port}/", StringComparison.Ordinal);

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                client.NoDelay = true;
                server.NoDelay = true;
                await server.ConnectAsync(IPAddress.Loopback, target, stop.Token);
                NetworkStream up = client.GetStream(), down = server.GetStream();
                Task requestsTask = PumpAsync(up, down, delayed: true);
                Task responses = PumpAsync(down, up, delayed: false);
                await Task.WhenAny(requestsTask, responses);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // a side closed
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool delayed)
    {
        byte[] buffer = new byte[64 * 1024];
        long last = 0;
        while (true)
        {
            int n = await from.ReadAsync(buffer, stop.Token);
            if (n == 0)
            {
                return;
            }

            if (delayed && (last == 0 || System.Diagnostics.Stopwatch.GetElapsedTime(last) > Pause))
            {
                Interlocked.Increment(ref requests);
                await Task.Delay(Delay, stop.Token);
            }

            await to.WriteAsync(buffer.AsMemory(0, n), stop.Token);
            last = System.Diagnostics.Stopwatch.GetTimestamp();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        await accepting;
        stop.Dispose();
    }
}
