using System.Net.Sockets;

namespace Qmig.Postcopy.Source;

/// <summary>
/// The source's test for a plain connection: a stream socket under a <see cref="NetworkStream"/>, which it
/// writes with sendmsg and reads with poll on a thread of its own, and on which it opens the preempt
/// connection together with the main one. Any other stream (TLS) goes through the stream's own methods.
/// </summary>
internal static class PlainSocket
{
    /// <summary>The socket under <paramref name="stream"/> when it is a plain connection, else null.</summary>
    public static Socket? Of(Stream stream) =>
        stream is NetworkStream { Socket: { SocketType: SocketType.Stream } socket } ? socket : null;
}
