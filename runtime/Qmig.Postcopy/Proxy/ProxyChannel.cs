namespace Qmig.Postcopy.Proxy;

/// <summary>What a connection through the proxy carries, as the destination would tell it.</summary>
public enum ProxyChannel
{
    /// <summary>The main migration stream (the first connection, or a source resuming after a postcopy pause).</summary>
    Main,

    /// <summary>The postcopy-preempt channel: bare RAM records of urgent pages.</summary>
    Preempt,

    /// <summary>A connection that is neither: forwarded, not decoded.</summary>
    Other,
}

/// <summary>A side of the migration, as the proxy sees it.</summary>
public enum ProxySide
{
    /// <summary>The migrating QEMU, which connected to the proxy.</summary>
    Source,

    /// <summary>The receiving QEMU, which the proxy connected to.</summary>
    Destination,
}

/// <summary>How a migration through the proxy ended.</summary>
public enum ProxyOutcome
{
    /// <summary>The main stream ended as a complete migration stream.</summary>
    Completed,

    /// <summary>A side closed or failed before the stream was complete (and the source did not resume), or a stream failed to decode under <see cref="ProxyOptions.Strict"/>.</summary>
    Failed,

    /// <summary>The caller cancelled the run.</summary>
    Cancelled,
}
