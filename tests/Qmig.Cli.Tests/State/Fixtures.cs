namespace Qmig.Cli.Tests.State;

/// <summary>The real QEMU streams under tests/data and what analyze-migration.py made of them.</summary>
internal static class Fixtures
{
    public static readonly string[] Qemu72 = ["pc-32m-paused", "pc-64m-running", "q35-devices"];

    public static string Stream(string name) => Path.Combine(AppContext.BaseDirectory, "data", name, name + ".mig");

    public static string Qemu10Stream => Path.Combine(AppContext.BaseDirectory, "data", "pc-32m-paused-qemu10", "pc-32m-paused.mig");

    public static string Reference(string name, string file) => Path.Combine(AppContext.BaseDirectory, "data", name, "analyze-migration", file);
}
