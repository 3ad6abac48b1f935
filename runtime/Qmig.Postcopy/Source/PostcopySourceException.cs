using Qmig.Wire.Machines;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Source;

/// <summary>
/// A postcopy migration failed. Says in which source status, how many pages had gone out, and why: a
/// return-path message that broke a rule (<see cref="ReturnPathError"/>, with its offset and rule), the
/// destination's SHUT with an error status, or the connection closing.
/// </summary>
public sealed class PostcopySourceException : Exception
{
    /// <summary>
    /// The engine's failure: <paramref name="message"/> says why, with the source's <paramref name="status"/>,
    /// the <paramref name="pagesSent"/> so far, whether the destination had the guest's device state
    /// (<paramref name="guestLoaded"/>), and the broken return-path rule or the underlying error when one is the cause.
    /// </summary>
    public PostcopySourceException(string message, MigrationStatusSourceMachine.State status, long pagesSent, bool guestLoaded, MigrationError? returnPathError = null, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
        PagesSent = pagesSent;
        GuestLoaded = guestLoaded;
        ReturnPathError = returnPathError;
    }

    /// <summary>A failure with no details, for serializers and the usual exception constructors.</summary>
    public PostcopySourceException()
    {
    }

    /// <summary>A failure described by <paramref name="message"/> alone; the status is the default and no page is counted.</summary>
    public PostcopySourceException(string message)
        : base(message)
    {
    }

    /// <summary>A failure caused by <paramref name="innerException"/>, described by <paramref name="message"/>.</summary>
    public PostcopySourceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The source's migration status when it failed (before the move to failed).</summary>
    public MigrationStatusSourceMachine.State Status { get; }

    /// <summary>Target pages put on the wire before the failure.</summary>
    public long PagesSent { get; }

    /// <summary>The return-path rule that was broken, when that is why it failed.</summary>
    public MigrationError? ReturnPathError { get; }

    /// <summary>
    /// True once the destination had loaded the guest's device state (it answered the PING inside the
    /// package). Before that a mismatch of machine, RAM blocks or devices is the likely cause of a failure;
    /// after it the guest may already have run there.
    /// </summary>
    public bool GuestLoaded { get; }
}
