namespace Qmig.Linux;

/// <summary>What the running kernel offers, as reported by a UFFDIO_API handshake with no features requested.</summary>
public sealed record UserfaultfdCapabilities(UffdFeatures Features, UffdIoctls Ioctls, UserfaultfdOpenMethod OpenedVia);
