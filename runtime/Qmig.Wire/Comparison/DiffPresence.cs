namespace Qmig.Wire.Comparison;

/// <summary>Which of the two streams compared, A or B, has a device or RAM block.</summary>
public enum DiffPresence
{
    /// <summary>Both have it, and it differs.</summary>
    Both,

    /// <summary>Only A has it.</summary>
    OnlyInA,

    /// <summary>Only B has it.</summary>
    OnlyInB,
}
