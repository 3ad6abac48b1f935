using System.Net;
using System.Net.Sockets;

namespace Qmig.Postcopy;

/// <summary>
/// A migration address as QEMU spells it: <c>tcp:HOST:PORT</c> (a name, an IPv4 address or a
/// bracketed IPv6 one; an empty host or 0.0.0.0 means every interface, for listening) or
/// <c>unix:PATH</c>. One parser for every verb that listens or connects.
/// </summary>
public static class MigrationAddress
{
    /// <summary>The accepted spellings, for messages.</summary>
    public const string Forms = "tcp:HOST:PORT or unix:PATH";

    /// <summary>
    /// Parses (and for a host name, resolves) <paramref name="text"/>. On failure
    /// <paramref name="problem"/> says what is wrong: the form, the port, or the name that does not resolve.
    /// </summary>
    public static bool TryParse(string text, out EndPoint address, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        address = new IPEndPoint(IPAddress.Loopback, 0);
        problem = null;
        if (text.StartsWith("unix:", StringComparison.Ordinal) && text.Length > "unix:".Length)
        {
            address = new UnixDomainSocketEndPoint(text["unix:".Length..]);
            return true;
        }

        if (!text.StartsWith("tcp:", StringComparison.Ordinal))
        {
            problem = $"'{text}' is not {Forms}";
            return false;
        }

        var rest = text["tcp:".Length..];
        var colon = rest.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(rest[(colon + 1)..], out var port) || port is < 0 or > 65535)
        {
            problem = $"'{text}' has no port from 0 to 65535 after the host ({Forms})";
            return false;
        }

        var host = rest[..colon].Trim('[', ']');
        IPAddress? ip;
        if (host.Length == 0 || host == "0.0.0.0")
        {
            ip = IPAddress.Any;
        }
        else if (!IPAddress.TryParse(host, out ip))
        {
            IPAddress[] resolved;
            try
            {
                resolved = Dns.GetHostAddresses(host);
            }
            catch (SocketException e)
            {
                problem = $"cannot resolve the host '{host}' of '{text}': {e.Message}";
                return false;
            }

            ip = resolved.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? resolved.FirstOrDefault();
            if (ip is null)
            {
                problem = $"the host '{host}' of '{text}' has no address";
                return false;
            }
        }

        address = new IPEndPoint(ip, port);
        return true;
    }

    /// <summary>An endpoint in the form <see cref="TryParse"/> reads: <c>tcp:ADDRESS:PORT</c> or <c>unix:PATH</c>.</summary>
    public static string Format(EndPoint? endpoint) => endpoint switch
    {
        UnixDomainSocketEndPoint unix => $"unix:{unix}",
        IPEndPoint ip => $"tcp:{ip}",
        _ => $"{endpoint}",
    };

    /// <summary>
    /// The host of a <c>tcp:</c> address as written (a name stays a name), or null for a <c>unix:</c> one: what a
    /// QEMU source checks the destination's certificate against when its <c>tls-hostname</c> is not set.
    /// </summary>
    public static string? HostOf(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.StartsWith("tcp:", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = text["tcp:".Length..];
        var colon = rest.LastIndexOf(':');
        return colon <= 0 ? null : rest[..colon].Trim('[', ']');
    }
}
