using System.Net;
using System.Net.Sockets;

namespace Qmig.TestSupport;

/// <summary>Loopback addresses for tests that start a listener of their own or tell QEMU where to listen.</summary>
public static class Loopback
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
