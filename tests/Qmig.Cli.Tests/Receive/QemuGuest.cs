using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Qmig.Cli.Tests.Receive;

/// <summary>
/// A real QEMU (<see cref="QemuBuild"/>) running the dirty guest (tests/fixtures/dirty-guest.asm)
/// under TCG on the pc-i440fx-7.2 machine (which 10.0 still has), with a QMP socket. Killed on dispose.
/// </summary>
internal sealed class QemuGuest : IDisposable
{
    /// <summary>The guest's RAM size; pmemsave of the whole of it covers pc.ram.</summary>
    public const int RamBytes = 32 << 20;

    private readonly Process _process;
    private readonly Task<string> _stderr;

    public QemuGuest(QemuBuild qemu, string work, string name, string disk, params string[] extra)
    {
        var qmpPath = Path.Combine(work, name + ".qmp");
        var start = new ProcessStartInfo(qemu.Binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["-accel", "tcg", "-display", "none", "-monitor", "none", "-serial", "none",
                     "-M", "pc-i440fx-7.2", "-m", "32", "-vga", "none", "-nic", "none",
                     "-drive", $"file={disk},format=raw,if=ide", "-qmp", $"unix:{qmpPath},server=on,wait=off",
                     "-name", "debug-threads=on", .. extra])
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {qemu.Binary}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"could not start {qemu} ({qemu.Binary}): {e.Message}; {qemu.HowToInstall}", e);
        }

        _stderr = _process.StandardError.ReadToEndAsync();
        try
        {
            Qmp = QmpClient.Connect(qmpPath, TimeSpan.FromSeconds(30));
        }
        catch (Exception e)
        {
            _process.Kill();
            throw new InvalidOperationException($"{qemu} ({qemu.Binary}) did not open its QMP socket: {_stderr.Result}", e);
        }
    }

    public QmpClient Qmp { get; }

    public int ProcessId => _process.Id;

    /// <summary>The 32-bit word at a guest-physical address (HMP xp), e.g. the dirty guest's sweep counter at 0x10000.</summary>
    public uint ReadWord(ulong address)
    {
        var text = Qmp.Human($"xp /1wx 0x{address:x}");
        var hex = text.Split(':', 2)[1].Trim();
        return Convert.ToUInt32(hex, 16);
    }

    /// <summary>
    /// Waits until the dirty guest has swept its pages at least once and returns its counter. The counter's
    /// word alone does not say so: while SeaBIOS boots it leaves 0x00d06cea or similar at 0x10000, and a
    /// guest stopped then, or in the boot sector before its first sweep, would count from 0 later.
    /// </summary>
    public uint WaitGuestRunning()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!HasSwept())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the dirty guest did not start sweeping within 60 s; its registers:\n{Qmp.Human("info registers")}");
            }

            Thread.Sleep(100);
        }

        return ReadWord(0x10000);
    }

    /// <summary>
    /// Whether the vCPU runs the boot sector's loop (CS base 0, EIP in 0x7c00..0x7dff) and has finished a
    /// sweep (the counter in ESI is past 1), so every swept page holds a counter the loop wrote.
    /// </summary>
    public bool HasSwept()
    {
        // HMP prints e.g. "ESI=00000157 ...", "EIP=00007c1d EFL=..." and "CS =0000 00000000 0000ffff ..." (selector, base, limit).
        var registers = Qmp.Human("info registers");
        var fields = registers.Split([' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
        uint Register(string name) => Convert.ToUInt32(
            (fields.FirstOrDefault(field => field.StartsWith(name + "=", StringComparison.Ordinal))
                ?? throw new FormatException($"no {name} in the registers HMP printed: {registers}"))[(name.Length + 1)..], 16);
        var segment = registers.Split('\n').FirstOrDefault(line => line.StartsWith("CS =", StringComparison.Ordinal))
            ?? throw new FormatException("no CS in the registers HMP printed: " + registers);
        var csBase = Convert.ToUInt32(segment[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], 16);
        return csBase == 0 && Register("EIP") is >= 0x7c00 and < 0x7e00 && Register("ESI") >= 2;
    }

    /// <summary>Turns migration capabilities on (on either side of a migration).</summary>
    public void EnableCapabilities(params string[] capabilities) =>
        Qmp.Execute("migrate-set-capabilities", new { capabilities = capabilities.Select(c => new { capability = c, state = true }).ToArray() });

    /// <summary>
    /// Migrates to <paramref name="uri"/> with postcopy (and the preempt channel when asked): precopy runs
    /// at 4 MiB/s and switches to postcopy after <paramref name="precopyRounds"/> RAM rounds (0: at once,
    /// so most of RAM goes in postcopy); postcopy runs at <paramref name="postcopyBandwidth"/> bytes per
    /// second. Returns once the switch was asked for.
    /// </summary>
    /// <remarks>
    /// A precopy that converges completes without postcopy, whatever was asked: on a loaded machine
    /// the guest may dirty nothing in a round. Only a switch before the first round ends is certain.
    /// </remarks>
    public void StartPostcopyMigration(string uri, bool preempt, long postcopyBandwidth, int precopyRounds = 2)
    {
        EnableCapabilities(preempt ? ["postcopy-ram", "postcopy-preempt"] : ["postcopy-ram"]);
        Qmp.Execute("migrate-set-parameters", new Dictionary<string, object> { ["max-bandwidth"] = 4 << 20, ["downtime-limit"] = 1, ["max-postcopy-bandwidth"] = postcopyBandwidth });
        Qmp.Execute("migrate", new { uri });
        if (precopyRounds > 0)
        {
            Qmp.WaitMigrate(m => m["ram"]?["dirty-sync-count"]?.GetValue<long>() >= precopyRounds, TimeSpan.FromSeconds(120), $"RAM round {precopyRounds}");
        }

        Qmp.Execute("migrate-start-postcopy");
    }

    /// <summary>
    /// Waits until this QEMU, a destination whose postcopy has started and whose source has sent all it
    /// will, completes. QEMU 7.2's postcopy listen thread sets the status to completed and only then frees
    /// the incoming migration's state, which a query-migrate in between reads while it is freed: the
    /// destination then aborts in visit_type_SocketAddress (seen in a core dump of such an abort, with the
    /// listen thread in socket_listen_cleanup). So query-migrate waits until that thread has ended.
    /// </summary>
    public JsonNode WaitIncomingEnd(Func<JsonNode, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (HasPostcopyListenThread())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waiting for {what}: QEMU's postcopy listen thread still runs after {timeout.TotalSeconds} s");
            }

            Thread.Sleep(20);
        }

        return Qmp.WaitMigrate(done, deadline > DateTime.UtcNow ? deadline - DateTime.UtcNow : TimeSpan.Zero, what);
    }

    /// <summary>Waits until this postcopy destination completes; see <see cref="WaitIncomingEnd"/>.</summary>
    public JsonNode WaitIncomingCompleted(TimeSpan timeout) =>
        WaitIncomingEnd(m => m["status"]?.GetValue<string>() == "completed", timeout, "the destination's completion");

    /// <summary>Whether QEMU runs its postcopy listen thread: postcopy/listen in 7.2, mig/dst/listen in 10.x (threads are named with <c>-name debug-threads=on</c>).</summary>
    public bool HasPostcopyListenThread()
    {
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{_process.Id}/task"))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') is "postcopy/listen" or "mig/dst/listen")
                    {
                        return true;
                    }
                }
                catch (IOException)
                {
                    // The thread ended while the list was read.
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            // QEMU has exited; query-migrate then says so.
        }

        return false;
    }

    public byte[] SaveMemory(string path)
    {
        Qmp.Execute("pmemsave", new { val = 0, size = RamBytes, filename = path });
        return File.ReadAllBytes(path);
    }

    public void Kill() => _process.Kill();

    /// <summary>Kills QEMU and returns what it wrote to stderr, which holds the reason a migration failed on its side.</summary>
    public string KillAndReadErrors()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        return _stderr.Wait(TimeSpan.FromSeconds(10)) ? _stderr.Result : "(QEMU's stderr did not close)";
    }

    public void Dispose()
    {
        Qmp.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
        _process.Dispose();
    }
}
