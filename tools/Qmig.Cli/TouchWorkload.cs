namespace Qmig.Cli;

/// <summary>What the stand-in guest does with its memory once POSTCOPY_RUN starts it.</summary>
internal enum TouchWorkload
{
    /// <summary>Nothing reads guest memory: every page arrives through the source's background sender.</summary>
    None,

    /// <summary>Threads read one word of every page, in address order, over and over.</summary>
    Sequential,

    /// <summary>Threads read one word of random pages.</summary>
    Random,
}
