namespace Qmig.Cli.Tests.State;

/// <summary>The real QEMU streams under tests/data and what analyze-migration.py made of them.</summary>
internal static class Fixtures
{
    /// <summary>QEMU 7.2 streams with what QEMU 7.2's script wrote for them (data/NAME/analyze-migration).</summary>
    public static readonly string[] Qemu72 = ["pc-32m-paused", "pc-64m-running", "q35-devices"];

    /// <summary>
    /// QEMU 10.0 streams with what QEMU 10.0's script wrote for them: every bundled 10.0 stream that
    /// has a vmdesc and that the script can read (it cannot read mapped-ram: it takes the block
    /// header for a block name).
    /// </summary>
    public static readonly string[] Qemu10 = ["pc-32m-paused-qemu10", "pc-32m-return-path-qemu10"];

    private static readonly Dictionary<string, string> StreamFiles = new()
    {
        ["pc-32m-paused-qemu10"] = "pc-32m-paused.mig",
        ["pc-32m-return-path-qemu10"] = "precopy-forward.mig",
    };

    public static string Stream(string name) =>
        Path.Combine(AppContext.BaseDirectory, "data", name, StreamFiles.GetValueOrDefault(name, name + ".mig"));

    public static string Reference(string name, string file) => Path.Combine(AppContext.BaseDirectory, "data", name, "analyze-migration", file);
}
