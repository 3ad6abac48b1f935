namespace Qmig.Postcopy.Source;

/// <summary>
/// The destination stopped reading: a write to one of its connections did not complete within
/// <see cref="PostcopySourceOptions.WriteTimeout"/>. The engine turns it into a
/// <see cref="PostcopySourceException"/> that names the status the migration was in.
/// </summary>
internal sealed class WriteStalledException(bool preempt, long offset, int bytes, TimeSpan timeout, Exception inner)
    : IOException($"the destination stopped reading: a write of {bytes} bytes at offset 0x{offset:x} of the {(preempt ? "preempt" : "main")} connection did not complete within {timeout.TotalSeconds:0.###} s", inner);
