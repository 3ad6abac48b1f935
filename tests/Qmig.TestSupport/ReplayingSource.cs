using System.Net;
using System.Net.Sockets;
using Qmig.Postcopy.Destination;
using Xunit;

namespace Qmig.TestSupport;

/// <summary>A recorded migration played into a <see cref="PostcopyDestination"/> over loopback TCP, as its source.</summary>
public static class ReplayingSource
{
    /// <summary>How long a destination may take over a replay before the test calls it hung.</summary>
    private static readonly TimeSpan ReceiveLimit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Plays <paramref name="stream"/> as the source (and <paramref name="preemptStream"/> on a second
    /// connection, as the postcopy-preempt channel), closes its side, and collects what came back.
    /// </summary>
    public static (byte[] ReturnPath, Exception? Error) Play(PostcopyDestination destination, byte[] stream, byte[]? preemptStream = null)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var source = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        source.Connect(listener.LocalEndpoint);
        using var connection = listener.AcceptSocket();
        using var preemptSource = preemptStream is null ? null : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Task? preemptSide = null;
        if (preemptSource is not null)
        {
            preemptSource.Connect(listener.LocalEndpoint);
            destination.AttachPreemptChannel(listener.AcceptSocket());
            preemptSide = Task.Run(() => SendAll(preemptSource, preemptStream!));
        }

        var returnPath = new MemoryStream();
        var sourceSide = Task.Run(() =>
        {
            var reading = Task.Run(() =>
            {
                var buffer = new byte[4096];
                int n;
                try
                {
                    while ((n = source.Receive(buffer)) > 0)
                    {
                        returnPath.Write(buffer, 0, n);
                    }
                }
                catch (SocketException)
                {
                    // Reset by a destination that failed: the return path ends there.
                }
            });
            SendAll(source, stream);
            reading.Wait(TimeSpan.FromSeconds(30));
        });
        Exception? error = null;
        var receiving = Task.Run(() =>
        {
            try
            {
                destination.Receive(connection);
            }
            catch (DestinationException e)
            {
                error = e;
            }
        });
        Assert.True(receiving.Wait(ReceiveLimit), $"the destination did not finish within {ReceiveLimit.TotalSeconds} s of the replay");

        connection.Shutdown(SocketShutdown.Both);
        Assert.True(sourceSide.Wait(TimeSpan.FromSeconds(30)), "the replaying source did not finish");
        Assert.True(preemptSide?.Wait(TimeSpan.FromSeconds(30)) ?? true, "the replaying preempt channel did not finish");
        return (returnPath.ToArray(), error);
    }

    /// <summary>
    /// Sends the whole stream and closes the sending side, unless the destination has hung up: one
    /// that fails early closes before taking everything (whether the rest still fitted in the socket
    /// buffers depends on timing), and a real source then stops sending too.
    /// </summary>
    private static void SendAll(Socket source, byte[] stream)
    {
        try
        {
            for (var at = 0; at < stream.Length; at += 32 << 10)
            {
                source.Send(stream, at, Math.Min(32 << 10, stream.Length - at), SocketFlags.None);
            }

            source.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The destination closed the connection.
        }
    }
}
