namespace Qmig.Linux;

/// <summary>What to ask of the kernel when opening a <see cref="Userfaultfd"/>.</summary>
public sealed class UserfaultfdOptions
{
    /// <summary>Features that must be granted; opening fails if the kernel does not offer all of them.</summary>
    public UffdFeatures RequiredFeatures { get; init; }

    /// <summary>Features to enable when offered, silently dropped otherwise (see <see cref="Userfaultfd.Features"/>).</summary>
    public UffdFeatures OptionalFeatures { get; init; } = UffdFeatures.ThreadId;

    /// <summary>How to create the descriptor: <see cref="UserfaultfdOpenMethod.Auto"/> tries the system call, then the device.</summary>
    public UserfaultfdOpenMethod OpenMethod { get; init; } = UserfaultfdOpenMethod.Auto;

    /// <summary>
    /// UFFD_USER_MODE_ONLY: do not trap faults taken inside the kernel (e.g. a read(2) into guest memory).
    /// Lets unprivileged processes open a userfaultfd when vm.unprivileged_userfaultfd=0, but postcopy
    /// needs kernel faults trapped too, so it is off by default.
    /// </summary>
    public bool UserModeOnly { get; init; }
}
