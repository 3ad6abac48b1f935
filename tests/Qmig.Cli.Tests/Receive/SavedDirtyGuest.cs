using Xunit;

namespace Qmig.Cli.Tests.Receive;

/// <summary>The dirty guest, run until it sweeps, paused and saved with <c>migrate exec:cat &gt; FILE</c>: what serve is given.</summary>
internal static class SavedDirtyGuest
{
    /// <summary>Saves it to <paramref name="path"/>; returns its sweep counter when paused.</summary>
    public static uint Save(QemuBuild qemu, string work, string path)
    {
        var name = Path.GetFileNameWithoutExtension(path) + "-source";
        using var source = new QemuGuest(qemu, work, name, ReceivePostcopyTests.AssembleGuest(work, name));
        source.WaitGuestRunning();
        source.Qmp.Execute("stop");
        Assert.True(source.HasSwept(), "the saved guest was stopped outside its sweep loop: " + source.Qmp.Human("info registers"));
        var counter = source.ReadWord(0x10000);
        source.Qmp.Execute("migrate", new { uri = $"exec:cat > {path}" });
        source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(60), "saving the guest");
        return counter;
    }
}
