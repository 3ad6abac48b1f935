using Xunit;

namespace Qmig.Wire.Tests;

/// <summary>
/// The four real streams every reader test walks: three from QEMU 7.2 and one from QEMU 10.0
/// (tests/data, copied next to the tests). One list, so a new stream reaches every such test.
/// </summary>
public static class RealStreams
{
    public static readonly string[] Names =
    [
        "pc-32m-paused/pc-32m-paused.mig",
        "pc-64m-running/pc-64m-running.mig",
        "q35-devices/q35-devices.mig",
        "pc-32m-paused-qemu10/pc-32m-paused.mig",
    ];

    public static readonly string[] Paths = [.. Names.Select(name => Path.Combine("data", name))];

    public static TheoryData<string> NameData() => [.. Names];

    public static TheoryData<string> PathData() => [.. Paths];
}
