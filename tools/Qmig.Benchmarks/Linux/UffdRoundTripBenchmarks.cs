using System.Diagnostics;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Qmig.Linux;
using Qmig.Linux.Interop;

namespace Qmig.Benchmarks.Linux;

/// <summary>
/// Fault-to-resolved latency: the benchmark thread (pinned to CPU 0) reads a missing page; a handler
/// thread (pinned to CPU 1) polls, reads the event and resolves it with UFFDIO_COPY. Once through our
/// <see cref="Userfaultfd"/> and once entirely in C (uffd_roundtrip.c), same placement, same timer
/// (CLOCK_MONOTONIC around the read). The mean is BenchmarkDotNet's; p50/p99 of single round trips are
/// printed at cleanup and appended to <see cref="LatencySamples.ReportPath"/>.
/// </summary>
/// <remarks>
/// On a shared machine the tail is set by other processes, and Native and Managed run one after the other,
/// so <see cref="Interleaved"/> alternates one C and one managed round trip per operation: both then see
/// the same interference, and its two p50/p99 pairs are the ones to compare.
/// </remarks>
[MinColumn, MedianColumn]
public unsafe class UffdRoundTripBenchmarks
{
    private const int Pages = 4096;
    private const int Capacity = 200_000;
    private static readonly int PageSize = Environment.SystemPageSize;

    private Userfaultfd? _uffd;
    private ulong _region;
    private byte[] _source = [];
    private Thread? _handler;
    private CancellationTokenSource? _stop;
    private readonly long[] _samples = new long[Capacity];
    private long _count;
    private int _next;

    [ThreadStatic]
    private static bool t_pinned;

    [GlobalSetup(Target = nameof(Managed))]
    public void SetupManaged()
    {
        _uffd = Userfaultfd.Open(new UserfaultfdOptions { OptionalFeatures = UffdFeatures.None });
        ulong length = (ulong)Pages * (ulong)PageSize;
        void* region = Libc.Mmap(null, (nuint)length, LinuxConstants.PROT_READ | LinuxConstants.PROT_WRITE, LinuxConstants.MAP_PRIVATE | LinuxConstants.MAP_ANONYMOUS | LinuxConstants.MAP_NORESERVE, -1, 0);
        _region = (ulong)region;
        _ = Libc.Madvise(region, (nuint)length, LinuxConstants.MADV_NOHUGEPAGE);
        _uffd.Register(_region, length, UffdRegisterMode.Missing);
        _source = GC.AllocateArray<byte>(PageSize, pinned: true);
        _source.AsSpan().Fill(0x5A);
        _stop = new CancellationTokenSource();
        Userfaultfd uffd = _uffd;
        ulong source = (ulong)Unsafe.AsPointer(ref _source[0]);
        CancellationToken token = _stop.Token;
        _handler = new Thread(() =>
        {
            CpuPinning.PinCurrentThread(1);
            Span<UffdEvent> events = stackalloc UffdEvent[16];
            ulong mask = ~((ulong)PageSize - 1);
            try
            {
                while (true)
                {
                    int count = uffd.ReadEvents(events, -1, token);
                    for (int i = 0; i < count; i++)
                    {
                        uffd.Copy(events[i].Address & mask, source, (ulong)PageSize);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }) { IsBackground = true, Name = "uffd-handler" };
        _handler.Start();
    }

    [GlobalSetup(Target = nameof(Interleaved))]
    public void SetupInterleaved()
    {
        SetupNative();
        SetupManaged();
    }

    [GlobalSetup(Target = nameof(Native))]
    public void SetupNative()
    {
        int rc = NativeUffd.RoundTripSetup(Pages, -1, 1, Capacity);
        if (rc != 0)
        {
            throw new InvalidOperationException("rt_setup failed: errno " + (-rc));
        }
    }

    [Benchmark(Baseline = true)]
    public long Native()
    {
        Pin();
        return NativeUffd.RoundTripTouch();
    }

    [Benchmark]
    public long Managed()
    {
        Pin();
        if (_next == Pages)
        {
            _ = Libc.Madvise((void*)_region, (nuint)((ulong)Pages * (ulong)PageSize), LinuxConstants.MADV_DONTNEED);
            _next = 0;
        }

        ulong address = _region + ((ulong)_next++ * (ulong)PageSize) + 8;
        long start = Stopwatch.GetTimestamp();
        ulong value = FaultingMemory.ReadUInt64(address);
        long elapsed = Stopwatch.GetTimestamp() - start;
        _samples[_count++ % Capacity] = elapsed * 1_000_000_000 / Stopwatch.Frequency;
        return value == 0x5A5A5A5A5A5A5A5AUL ? elapsed : -1;
    }

    /// <summary>One C round trip, then one through <see cref="Userfaultfd"/>; the result is their sum.</summary>
    [Benchmark]
    public long Interleaved() => Native() + Managed();

    [GlobalCleanup(Target = nameof(Interleaved))]
    public void CleanupInterleaved()
    {
        ReportAndTearDownNative("interleaved native");
        ReportAndTearDownManaged("interleaved managed");
    }

    [GlobalCleanup(Target = nameof(Managed))]
    public void CleanupManaged() => ReportAndTearDownManaged("managed");

    [GlobalCleanup(Target = nameof(Native))]
    public void CleanupNative() => ReportAndTearDownNative("native");

    private void ReportAndTearDownManaged(string name)
    {
        LatencySamples.Report(name, _samples.AsSpan(0, (int)Math.Min(_count, Capacity)));
        _stop?.Cancel();
        _handler?.Join();
        _uffd?.Dispose();
        _ = Libc.Munmap((void*)_region, (nuint)((ulong)Pages * (ulong)PageSize));
        CpuPinning.UnpinCurrentThread();
        t_pinned = false;
    }

    private static void ReportAndTearDownNative(string name)
    {
        var samples = new long[Capacity];
        long count;
        fixed (long* buffer = samples)
        {
            count = NativeUffd.RoundTripSamples(buffer, Capacity);
        }

        LatencySamples.Report(name, samples.AsSpan(0, (int)count));
        NativeUffd.RoundTripTeardown();
        CpuPinning.UnpinCurrentThread();
        t_pinned = false;
    }

    private static void Pin()
    {
        if (!t_pinned)
        {
            CpuPinning.PinCurrentThread(0);
            t_pinned = true;
        }
    }
}
