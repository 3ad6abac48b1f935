using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Qmig.Linux;
using Qmig.Linux.Memory;
using Qmig.Postcopy.Destination;
using Qmig.Wire.Machines;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Cli.Tests.Receive;

/// <summary>
/// <see cref="PostcopyDestination"/> embedded the way a VMM embeds it: guest RAM and the userfaultfd
/// are the caller's (<see cref="VmmMemory"/>), a vCPU of the caller's starts at the POSTCOPY_RUN
/// hook, and a real QEMU 7.2 migrates into that memory with postcopy. No qmig process is involved.
/// </summary>
[Collection(nameof(RealQemu))]
public sealed class EmbeddedDestinationTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-embedded-").FullName;

    [Fact]
    public async Task ARealQemuMigratesIntoTheCallersMemoryAndTheRunHookGetsTheDevices()
    {
        var before = DestinationDescriptors();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(1);
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        byte[] sourceRam;
        byte[] ourRam;
        using (var memory = new VmmMemory())
        {
            var vcpu = new SweepingVcpu();
            PostcopyRun? run = null;
            var runs = 0;
            var options = new DestinationOptions
            {
                OnPostcopyRun = handedOver =>
                {
                    runs++;
                    run = handedOver;
                    vcpu.Start(handedOver.Blocks);
                    // A VMM's guest runs on after the migration: nothing for the destination to stop.
                    return null;
                },
            };
            using (var destination = new PostcopyDestination(memory, options))
            using (var source = new QemuGuest(QemuBuild.Debian72, _work, "source", ReceivePostcopyTests.AssembleGuest(_work, "source")))
            {
                source.WaitGuestRunning();
                source.StartPostcopyMigration($"tcp:127.0.0.1:{port}", preempt: false, postcopyBandwidth: 256 << 10, precopyRounds: 0);
                using var connection = listener.AcceptSocket();
                var outcome = await destination.ReceiveAsync(connection).WaitAsync(TimeSpan.FromSeconds(180));
                Assert.Equal(ReceiveOutcome.Completed, outcome);
                source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(60), "completion");
                sourceRam = source.SaveMemory(Path.Combine(_work, "source.ram"));

                Assert.Equal(MigrationStatusDestinationMachine.State.Completed, destination.Status);
                Assert.Equal(1, runs);
                Assert.NotNull(run);
                // The hook had the device state before the guest ran: the CPU's and the rest of the machine's.
                Assert.Contains(run.Devices, device => device.Section.Idstr == "cpu");
                Assert.True(run.Devices.Count > 5, $"only {run.Devices.Count} device sections were handed over");
                Assert.Equal(destination.Devices.Count, run.Devices.Count);
                // Every block the hook saw, and every block received into, is one the caller provided.
                Assert.Equal(memory.Provided, run.Blocks);
                Assert.Equal(memory.Provided, destination.Blocks);
                Assert.Contains(memory.Provided, block => block.Name == "pc.ram");

                // The caller's vCPU faulted on pages that were still on the source, and they were requested.
                vcpu.Join();
                output.WriteLine($"faults {destination.Stats.Faults}, requested {destination.Stats.PostcopyRequestedPages}, background {destination.Stats.PostcopyBackgroundPages}, vCPU reads {vcpu.Reads}");
                Assert.True(destination.Stats.Faults > 0, "the caller's vCPU never faulted: postcopy was not exercised");
                Assert.True(destination.Stats.PostcopyRequestedPages > 0, "no page was requested for the caller's vCPU");
                Assert.True(destination.Stats.PostcopyBackgroundPages > 0, "no page came in the background after LISTEN");

                var pcRam = memory.Provided.Single(block => block.Name == "pc.ram");
                ourRam = new byte[QemuGuest.RamBytes];
                pcRam.ReadUnregistered(0, ourRam);
            }

            // The destination left the caller's memory mapped and its userfaultfd open.
            Assert.True(DestinationDescriptors().Userfaultfds > before.Userfaultfds, "disposing the destination closed the caller's userfaultfd");
        }

        GuestMemory.AssertSame(sourceRam, ourRam, "the caller's pc.ram after the migration", GuestMemory.VgaWindow);
        Assert.Equal(before, DestinationDescriptors());
    }

    /// <summary>
    /// Cancelling in postcopy, with the source crawling: the receive ends at once with
    /// <see cref="OperationCanceledException"/>, what the RUN hook started is stopped, no thread of
    /// the destination is left, and once both are disposed no userfaultfd or memfd of theirs is open.
    /// </summary>
    /// <remarks>
    /// No vCPU faults here: the source serves a request past its bandwidth limit, so a vCPU
    /// sweeping memory would fetch the whole guest and complete the migration before the cancellation.
    /// </remarks>
    [Fact]
    public async Task CancellingMidPostcopyEndsTheReceivePromptlyAndLeavesNoThreadOrDescriptor()
    {
        var before = DestinationDescriptors();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(1);
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using (var memory = new VmmMemory())
        {
            var guest = new StoppableGuest();
            var options = new DestinationOptions { OnPostcopyRun = _ => guest };
            using (var destination = new PostcopyDestination(memory, options))
            using (var source = new QemuGuest(QemuBuild.Debian72, _work, "source", ReceivePostcopyTests.AssembleGuest(_work, "source")))
            {
                source.WaitGuestRunning();
                // At 8 KiB/s postcopy is far from done when the receive is cancelled.
                source.StartPostcopyMigration($"tcp:127.0.0.1:{port}", preempt: false, postcopyBandwidth: 8192, precopyRounds: 0);
                using var connection = listener.AcceptSocket();
                using var cancel = new CancellationTokenSource();
                var receiving = destination.ReceiveAsync(connection, cancel.Token);
                source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "postcopy-active", TimeSpan.FromSeconds(60), "postcopy");
                var deadline = Stopwatch.StartNew();
                while (destination.State != PostcopyMachine.State.Running && deadline.Elapsed < TimeSpan.FromSeconds(30))
                {
                    Thread.Sleep(50);
                }

                Assert.Equal(PostcopyMachine.State.Running, destination.State);
                Thread.Sleep(500);
                Assert.False(guest.Stopped, "what the RUN hook started was stopped before the migration ended");
                Assert.False(receiving.IsCompleted, $"the receive ended before it was cancelled: {receiving.Status} {receiving.Exception?.InnerException?.Message}");

                var cancelled = Stopwatch.StartNew();
                cancel.Cancel();
                var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receiving.WaitAsync(TimeSpan.FromSeconds(10)));
                output.WriteLine($"cancelled after {cancelled.Elapsed.TotalMilliseconds:F0} ms: {error.Message}");
                Assert.True(cancelled.Elapsed < TimeSpan.FromSeconds(5), $"the receive took {cancelled.Elapsed.TotalSeconds:F1} s to end after the cancellation");
                Assert.True(receiving.IsCanceled, $"the task ended {receiving.Status}, not canceled");
                Assert.Equal(MigrationStatusDestinationMachine.State.Failed, destination.Status);

                Assert.True(guest.Stopped, "what the RUN hook started is still running after the cancellation");
                Assert.Empty(DestinationThreads());
                Assert.Throws<InvalidOperationException>(() => destination.WritePrecopyStream(Stream.Null));
            }
        }

        Assert.Equal(before, DestinationDescriptors());
    }

    /// <summary>Cancelling while the receive waits for the source's first byte: nothing to place, the read alone must end.</summary>
    [Fact]
    public async Task CancellingBeforeTheSourceSendsAnythingEndsTheBlockedRead()
    {
        var before = DestinationDescriptors();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(1);
        using var source = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        source.Connect(listener.LocalEndpoint);
        using var connection = listener.AcceptSocket();
        using (var destination = new PostcopyDestination(new DestinationOptions { StallTimeout = Timeout.InfiniteTimeSpan }))
        {
            using var cancel = new CancellationTokenSource();
            var receiving = destination.ReceiveAsync(connection, cancel.Token);
            Thread.Sleep(300);
            Assert.False(receiving.IsCompleted, $"the receive ended with nothing sent: {receiving.Status}");
            Assert.Single(DestinationThreads(), name => name == "qmig receive");

            var cancelled = Stopwatch.StartNew();
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receiving.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.True(cancelled.Elapsed < TimeSpan.FromSeconds(2), $"the blocked read took {cancelled.Elapsed.TotalSeconds:F1} s to end");
            Assert.True(receiving.IsCanceled, $"the task ended {receiving.Status}, not canceled");
            Assert.Equal(MigrationStatusDestinationMachine.State.Failed, destination.Status);
            Assert.Empty(DestinationThreads());
        }

        Assert.Equal(before, DestinationDescriptors());
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>
    /// The threads of this process that a destination starts (by their names, which Linux keeps as
    /// the thread's comm), once the ones ending have had a moment to go: the task of a receive
    /// completes just before its thread returns.
    /// </summary>
    private static string[] DestinationThreads()
    {
        string[] names = [];
        for (var attempt = 0; attempt < 20; attempt++)
        {
            names = Directory.GetDirectories("/proc/self/task")
                .Select(task => File.Exists(Path.Combine(task, "comm")) ? ReadOrEmpty(Path.Combine(task, "comm")).Trim() : "")
                .Where(name => name is "qmig receive" or "qmig fault thre" or "qmig preempt ch")
                .ToArray();
            if (names.Length == 0)
            {
                return names;
            }

            Thread.Sleep(50);
        }

        return names;
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            // The thread ended between the listing and the read.
            return "";
        }
    }

    /// <summary>Open userfaultfds and qmig memfds of this process: what a destination or its caller's memory holds.</summary>
    private static (int Userfaultfds, int Memfds) DestinationDescriptors()
    {
        var userfaultfds = 0;
        var memfds = 0;
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue;
            }

            if (target is null)
            {
                continue;
            }

            userfaultfds += target.Contains("userfaultfd", StringComparison.Ordinal) ? 1 : 0;
            memfds += target.StartsWith("/memfd:qmig:", StringComparison.Ordinal) ? 1 : 0;
        }

        return (userfaultfds, memfds);
    }

    /// <summary>A VMM's guest RAM: its own userfaultfd and a memfd-backed block per RAM block, which it keeps after the migration.</summary>
    private sealed class VmmMemory : IDestinationMemory, IDisposable
    {
        private readonly List<RamBlockMemory> _blocks = [];

        public Userfaultfd Userfaultfd { get; } = Userfaultfd.Open();

        public IReadOnlyList<RamBlockMemory> Provided => _blocks;

        public RamBlockMemory ProvideBlock(string name, ulong length, int pageSize)
        {
            var block = RamBlockMemory.Create(Userfaultfd, name, length, new RamBlockOptions { MemfdBacked = true, PageSize = pageSize });
            _blocks.Add(block);
            return block;
        }

        public void Dispose()
        {
            foreach (var block in _blocks)
            {
                block.Dispose();
            }

            Userfaultfd.Dispose();
        }
    }

    /// <summary>What a RUN hook started, to be stopped when the migration ends.</summary>
    private sealed class StoppableGuest : IDisposable
    {
        private int _stopped;

        public bool Stopped => Volatile.Read(ref _stopped) != 0;

        public void Dispose() => Volatile.Write(ref _stopped, 1);
    }

    /// <summary>
    /// A vCPU of the caller's: one thread that reads a word of every page once, in address order,
    /// faulting on each page still on the source. It reads through native code, as a guest would.
    /// </summary>
    private sealed class SweepingVcpu
    {
        private Thread? _thread;
        private long _reads;

        public long Reads => Interlocked.Read(ref _reads);

        public void Start(IReadOnlyList<RamBlockMemory> blocks)
        {
            RamBlockMemory[] sweep = [.. blocks];
            _thread = new Thread(() =>
            {
                foreach (var block in sweep)
                {
                    for (var page = 0L; page < block.PageCount; page++)
                    {
                        _ = FaultingMemory.ReadUInt64(block.BaseAddress + ((ulong)page * (ulong)block.PageSize));
                        Interlocked.Increment(ref _reads);
                    }
                }
            })
            { IsBackground = true, Name = "test vcpu" };
            _thread.Start();
        }

        public void Join() => Assert.True(Join(TimeSpan.FromSeconds(60)), "the caller's vCPU did not finish its sweep");

        public bool Join(TimeSpan limit) => _thread is null ? throw new InvalidOperationException("the POSTCOPY_RUN hook never started the vCPU") : _thread.Join(limit);
    }
}
