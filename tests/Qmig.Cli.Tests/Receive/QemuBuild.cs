namespace Qmig.Cli.Tests.Receive;

/// <summary>
/// Which real QEMU a test starts: Debian's own 7.2 (qemu-system-x86), or Debian's 10.0 from
/// bookworm-backports, which test.sh unpacks into /opt/qemu10 with tests/fixtures/qemu10-setup.sh
/// (QMIG_QEMU10 points elsewhere). Either is required, never skipped: a missing binary fails the
/// test and says how to get it.
/// </summary>
public sealed record QemuBuild(string Version, string Binary)
{
    public static readonly QemuBuild Debian72 = new("7.2", "qemu-system-x86_64");

    public static readonly QemuBuild Backports100 = new(
        "10.0",
        Environment.GetEnvironmentVariable("QMIG_QEMU10") is { Length: > 0 } path ? path : "/opt/qemu10/bin/qemu-system-x86_64");

    public static QemuBuild ByVersion(string version) => version switch
    {
        "7.2" => Debian72,
        "10.0" => Backports100,
        _ => throw new ArgumentOutOfRangeException(nameof(version), version, "no such QEMU build in the tests"),
    };

    public string HowToInstall => Version == "7.2"
        ? "apt-get install qemu-system-x86 (test.sh does it)"
        : "PREFIX=/opt/qemu10 bash tests/fixtures/qemu10-setup.sh (test.sh does it), or set QMIG_QEMU10";

    public override string ToString() => $"QEMU {Version}";
}
