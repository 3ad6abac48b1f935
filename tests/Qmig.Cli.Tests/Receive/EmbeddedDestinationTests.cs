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
/// hook, and a real QEMU 7.2 migrates into that memory with postcopy, over the socket itself or a
/// stream (a <see cref="NetworkStream"/>, or one of the caller's own type). No qmig process is involved.
/// </summary>
[Collection(nameof(RealQemu))]
public sealed class EmbeddedDestinationTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-embedded-").FullName;

    [Theory]
    [InlineData(Transport.Socket)]
    [InlineData(Transport.NetworkStream)]
    [InlineData(Transport.CallersStream)]
    public async Task ARealQemuMigratesIntoTheCallersMemoryAndTheRunHookGetsTheDevices(Transport transport)
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
                using var connection = Connection.Accept(listener, transport);
                var outcome = await connection.ReceiveAsync(destination, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(180));
                Assert.Equal(ReceiveOutcome.Completed, outcome);
                connection.AssertReadAsTransportSays();
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
    [Theory]
    [InlineData(Transport.Socket)]
    [InlineData(Transport.CallersStream)]
    public async Task CancellingMidPostcopyEndsTheReceivePromptlyAndLeavesNoThreadOrDescriptor(Transport transport)
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
                using var connection = Connection.Accept(listener, transport);
                using var cancel = new CancellationTokenSource();
                var receiving = connection.ReceiveAsync(destination, cancel.Token);
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
                connection.AssertReadAsTransportSays();
                Assert.Throws<InvalidOperationException>(() => destination.WritePrecopyStream(Stream.Null));
            }
        }

        Assert.Equal(before, DestinationDescriptors());
    }

    /// <summary>Cancelling while the receive waits for the source's first byte: nothing to place, the read alone must end.</summary>
    [Theory]
    [InlineData(Transport.Socket)]
    [InlineData(Transport.NetworkStream)]
    [InlineData(Transport.CallersStream)]
    public async Task CancellingBeforeTheSourceSendsAnythingEndsTheBlockedRead(Transport transport)
    {
        var before = DestinationDescriptors();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(1);
        using var source = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        source.Connect(listener.LocalEndpoint);
        using var connection = Connection.Accept(listener, transport);
        using (var destination = new PostcopyDestination(new DestinationOptions { StallTimeout = Timeout.InfiniteTimeSpan }))
        {
            using var cancel = new CancellationTokenSource();
            var receiving = connection.ReceiveAsync(destination, cancel.Token);
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
            connection.AssertReadAsTransportSays();
        }

        Assert.Equal(before, DestinationDescriptors());
    }

    /// <summary>
    /// A stall timeout over a stream of the caller's: a source that connects and says nothing fails
    /// the receive after the timeout (the token the reads wait on is canceled by its timer), naming it.
    /// </summary>
    [Fact]
    public async Task ASilentSourceOverACallersStreamFailsAtTheStallTimeout()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(1);
        using var source = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        source.Connect(listener.LocalEndpoint);
        using var connection = Connection.Accept(listener, Transport.CallersStream);
        using var destination = new PostcopyDestination(new DestinationOptions { StallTimeout = TimeSpan.FromMilliseconds(500) });
        var waited = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DestinationException>(() => connection.ReceiveAsync(destination, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        output.WriteLine(error.Message);
        Assert.Contains("stall timeout", error.Message, StringComparison.Ordinal);
        Assert.InRange(waited.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(5));
        Assert.Empty(DestinationThreads());
        connection.AssertReadAsTransportSays();
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

    /// <summary>How the test hands the accepted connection to the destination.</summary>
    public enum Transport
    {
        /// <summary><see cref="PostcopyDestination.ReceiveAsync(Socket, CancellationToken)"/>.</summary>
        Socket,

        /// <summary><see cref="PostcopyDestination.ReceiveAsync(Stream, CancellationToken)"/> with a <see cref="System.Net.Sockets.NetworkStream"/>.</summary>
        NetworkStream,

        /// <summary><see cref="PostcopyDestination.ReceiveAsync(Stream, CancellationToken)"/> with a stream of the caller's own type.</summary>
        CallersStream,
    }

    /// <summary>An accepted connection and the way it is handed over.</summary>
    private sealed class Connection(Socket socket, Transport transport) : IDisposable
    {
        private readonly CallersStream? _callers = transport == Transport.CallersStream ? new CallersStream(new NetworkStream(socket, ownsSocket: false)) : null;
        private readonly NetworkStream? _network = transport == Transport.NetworkStream ? new NetworkStream(socket, ownsSocket: false) : null;

        public static Connection Accept(TcpListener listener, Transport transport) => new(listener.AcceptSocket(), transport);

        public Task<ReceiveOutcome> ReceiveAsync(PostcopyDestination destination, CancellationToken cancellationToken) => transport switch
        {
            Transport.Socket => destination.ReceiveAsync(socket, cancellationToken),
            Transport.NetworkStream => destination.ReceiveAsync(_network!, cancellationToken),
            _ => destination.ReceiveAsync(_callers!, cancellationToken),
        };

        /// <summary>A stream of the caller's is read through the reads that take a token, which is what lets a blocked read end.</summary>
        public void AssertReadAsTransportSays()
        {
            if (_callers is { } callers)
            {
                Assert.True(callers.TokenReads > 0, "the destination never read the caller's stream through ReadAsync with a token");
                Assert.Equal(0, callers.BlockingReads);
            }
        }

        public void Dispose()
        {
            _callers?.Dispose();
            _network?.Dispose();
            socket.Dispose();
        }
    }

    /// <summary>A duplex stream of an embedder's own type (not a <see cref="NetworkStream"/>), passing reads and writes to another stream and counting how it is read.</summary>
    private sealed class CallersStream(Stream inner) : Stream
    {
        private long _tokenReads;
        private long _blockingReads;

        public long TokenReads => Interlocked.Read(ref _tokenReads);

        public long BlockingReads => Interlocked.Read(ref _blockingReads);

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Interlocked.Increment(ref _blockingReads);
            return inner.Read(buffer, offset, count);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _tokenReads);
            return inner.ReadAsync(buffer, cancellationToken);
        }

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
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
