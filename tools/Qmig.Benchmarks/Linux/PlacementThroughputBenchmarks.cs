using System.Diagnostics;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Qmig.Linux;
using Qmig.Linux.Memory;

namespace Qmig.Benchmarks.Linux;

/// <summary>
/// Placement rate into 16 MiB of missing pages, per page placed: one UFFDIO_COPY per 4 KiB page, one per
/// 64 KiB run, and one UFFDIO_ZEROPAGE for the whole range; through <see cref="RamBlockMemory"/> (state
/// array included) and through the raw <see cref="Userfaultfd"/>, against the same calls in C. Every
/// iteration starts from all-missing (reset outside the measurement).
/// </summary>
/// <remarks>
/// From run to run the kernel's page allocation moves any one row by up to 30 %, so the separate rows
/// can disagree about the managed/C ratio; <see cref="Interleaved"/> places all pages by C and by
/// <see cref="RamBlockMemory"/> alternately within each iteration (per page and in 64 KiB runs, which
/// goes first flipping every round) and reports the median of the per-round ratios, which both sides'
/// interference then shares.
/// </remarks>
/// <remarks>
/// The source is page-aligned native memory on both sides: a managed array's data starts 16 bytes into
/// the object, and a 4 KiB copy from a misaligned source spans two source pages (measured about 7% slower).
/// Each iteration is a single invocation (IterationSetup), so the managed paths are run and given time
/// to reach tier-1 code in GlobalSetup, or the first iterations would measure tier-0 code.
/// </remarks>
[MinColumn, MedianColumn]
public unsafe class PlacementThroughputBenchmarks
{
    private const int Pages = 4096;
    private static readonly int PageSize = Environment.SystemPageSize;
    private static readonly int RunBytes = 64 * 1024;

    private GuestMemory? _memory;
    private RamBlockMemory _block = null!;
    private byte* _source;
    private byte* _ownSource;

    private readonly List<(long Native4K, long Managed4K, long Native64K, long Managed64K)> _rounds = [];

    [GlobalSetup(Target = nameof(Interleaved))]
    public void SetupInterleaved()
    {
        SetupNative();
        SetupManaged();
        // Both sides copy from the same pages, so where the source happens to sit in physical memory
        // cannot favour one of them.
        _source = NativeUffd.PlaceSource();
        // Unpinned, a launch either kept both sides on one CPU (ratio about 0.95) or moved between them
        // (about 0.89): 5 launches gave 0.950 0.952 0.898 0.957 0.892, pinned 0.932 0.942 0.962 0.945 0.971.
        CpuPinning.PinCurrentThread(1);
    }

    [GlobalSetup(Targets = [nameof(ManagedCopy4K), nameof(ManagedCopy64K), nameof(ManagedZeroRange), nameof(ManagedUffdCopy4K)])]
    public void SetupManaged()
    {
        _memory = new GuestMemory(Userfaultfd.Open(new UserfaultfdOptions { OptionalFeatures = UffdFeatures.None }), ownsUserfaultfd: true);
        _block = _memory.AddBlock("pc.ram", (ulong)Pages * (ulong)PageSize);
        _source = _ownSource = (byte*)NativeMemory.AlignedAlloc((nuint)(Pages * PageSize), (nuint)PageSize);
        new Span<byte>(_source, Pages * PageSize).Fill(0x5A);
        for (int round = 0; round < 30; round++)
        {
            ResetManaged();
            ManagedCopy4K();
            ResetManaged();
            ManagedCopy64K();
            ResetManaged();
            ManagedZeroRange();
            ResetManaged();
            ManagedUffdCopy4K();
        }

        // Tier-1 compilation happens on a background thread after a short delay.
        Thread.Sleep(500);
    }

    [GlobalSetup(Targets = [nameof(NativeCopy4K), nameof(NativeCopy64K), nameof(NativeZeroRange)])]
    public void SetupNative() => Check(NativeUffd.PlaceSetup(Pages), "place_setup");

    [IterationSetup(Targets = [nameof(ManagedCopy4K), nameof(ManagedCopy64K), nameof(ManagedZeroRange), nameof(ManagedUffdCopy4K)])]
    public void ResetManaged() => _block.Discard(0, _block.Length);

    [IterationSetup(Targets = [nameof(NativeCopy4K), nameof(NativeCopy64K), nameof(NativeZeroRange)])]
    public void ResetNative() => NativeUffd.PlaceReset();

    [GlobalCleanup(Targets = [nameof(ManagedCopy4K), nameof(ManagedCopy64K), nameof(ManagedZeroRange), nameof(ManagedUffdCopy4K)])]
    public void CleanupManaged()
    {
        _memory?.Dispose();
        NativeMemory.AlignedFree(_ownSource);
        _source = _ownSource = null;
    }

    [GlobalCleanup(Targets = [nameof(NativeCopy4K), nameof(NativeCopy64K), nameof(NativeZeroRange)])]
    public void CleanupNative() => NativeUffd.PlaceTeardown();

    [GlobalCleanup(Target = nameof(Interleaved))]
    public void CleanupInterleaved()
    {
        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
        }

        // Rate ratio managed/C: C's time over ours, so ≥ 0.9 is the target.
        double perPage = Median(_rounds.Select(r => (double)r.Native4K / r.Managed4K));
        double runs = Median(_rounds.Select(r => (double)r.Native64K / r.Managed64K));
        string line = FormattableString.Invariant(
            $"placement interleaved: rounds={_rounds.Count} per-page ns C={Median(_rounds.Select(r => (double)r.Native4K)) / Pages:F0} ours={Median(_rounds.Select(r => (double)r.Managed4K)) / Pages:F0} rate ratio={perPage:F3}; 64 KiB runs ns/page C={Median(_rounds.Select(r => (double)r.Native64K)) / Pages:F0} ours={Median(_rounds.Select(r => (double)r.Managed64K)) / Pages:F0} rate ratio={runs:F3}");
        Console.WriteLine("// " + line);
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "qmig-placement-interleaved.txt"), line + Environment.NewLine);
        _rounds.Clear();
        CleanupNative();
        CleanupManaged();
        CpuPinning.UnpinCurrentThread();
    }

    /// <summary>
    /// One round of all four copy paths, each from all-missing, each timed alone: C per page, ours per page,
    /// C in 64 KiB runs, ours in 64 KiB runs.
    /// </summary>
    [Benchmark]
    public void Interleaved()
    {
        // Which of a pair runs first shifts its time by a few per cent (the pages the other just freed),
        // so the order flips every round.
        bool managedFirst = (_rounds.Count & 1) == 1;
        var (native4K, managed4K) = TimePair(managedFirst, NativeCopy4K, ManagedCopy4K);
        var (native64K, managed64K) = TimePair(managedFirst, NativeCopy64K, ManagedCopy64K);
        _rounds.Add((native4K, managed4K, native64K, managed64K));
    }

    private (long Native, long Managed) TimePair(bool managedFirst, Action native, Action managed)
    {
        if (managedFirst)
        {
            long managedTime = TimeFromMissing(ResetManaged, managed);
            return (TimeFromMissing(ResetNative, native), managedTime);
        }

        long nativeTime = TimeFromMissing(ResetNative, native);
        return (nativeTime, TimeFromMissing(ResetManaged, managed));
    }

    /// <summary>Resets to all-missing, then times <paramref name="place"/> alone.</summary>
    private static long TimeFromMissing(Action reset, Action place)
    {
        reset();
        long start = Stopwatch.GetTimestamp();
        place();
        return ToNanoseconds(Stopwatch.GetTimestamp() - start);
    }

    private static long ToNanoseconds(long ticks) => ticks * 1_000_000_000 / Stopwatch.Frequency;

    [Benchmark(Baseline = true, OperationsPerInvoke = Pages)]
    public void NativeCopy4K() => Check(NativeUffd.PlaceAll(1, 0), "place_all");

    [Benchmark(OperationsPerInvoke = Pages)]
    public void ManagedCopy4K()
    {
        for (int page = 0; page < Pages; page++)
        {
            _block.PlacePage((ulong)(page * PageSize), new ReadOnlySpan<byte>(_source + (page * PageSize), PageSize));
        }
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public void ManagedUffdCopy4K()
    {
        Userfaultfd uffd = _memory!.Userfaultfd;
        for (int page = 0; page < Pages; page++)
        {
            uffd.Copy(_block.BaseAddress + (ulong)(page * PageSize), (ulong)(_source + (page * PageSize)), (ulong)PageSize);
        }
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public void NativeCopy64K() => Check(NativeUffd.PlaceAll(RunBytes / PageSize, 0), "place_all");

    [Benchmark(OperationsPerInvoke = Pages)]
    public void ManagedCopy64K()
    {
        for (int offset = 0; offset < Pages * PageSize; offset += RunBytes)
        {
            _block.PlaceRun((ulong)offset, new ReadOnlySpan<byte>(_source + offset, RunBytes));
        }
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public void NativeZeroRange() => Check(NativeUffd.PlaceAll(Pages, 1), "place_all");

    [Benchmark(OperationsPerInvoke = Pages)]
    public void ManagedZeroRange() => _block.PlaceZero(0, _block.Length);

    private static void Check(int rc, string what)
    {
        if (rc != 0)
        {
            throw new InvalidOperationException(what + " failed: errno " + (-rc));
        }
    }
}
