namespace Qmig.Wire.Extraction;

/// <summary>Where the page index of an open <see cref="SavedStream"/> came from.</summary>
public enum SavedStreamIndexSource
{
    /// <summary>A pass over every record header of the stream built it.</summary>
    Scanned,

    /// <summary>A mapped-ram stream: its block bitmaps are the index, so nothing was scanned or kept.</summary>
    MappedRamBitmaps,

    /// <summary>It was loaded from <see cref="SavedStreamOptions.IndexFile"/>; the stream's pages were not read at open.</summary>
    IndexFile,
}

/// <summary>
/// How <see cref="SavedStream.Open"/> came by the page index, and what became of
/// <see cref="SavedStreamOptions.IndexFile"/>: a tool reports <see cref="NotLoadedBecause"/> and
/// <see cref="NotSavedBecause"/> so that its user knows why a later open is not faster.
/// </summary>
/// <param name="Source">Where the index came from.</param>
/// <param name="Saved">The index was written to the index file (after a scan).</param>
/// <param name="NotLoadedBecause">Why an index file was given but not loaded (none yet, made from another version of the stream, damaged, …); null when it was loaded or none was given.</param>
/// <param name="NotSavedBecause">Why the index was not written to the index file (it cannot be written, an explicit vmdesc was given); null when it was, or none was given, or it was loaded.</param>
public sealed record SavedStreamIndexStatus(SavedStreamIndexSource Source, bool Saved, string? NotLoadedBecause, string? NotSavedBecause);
