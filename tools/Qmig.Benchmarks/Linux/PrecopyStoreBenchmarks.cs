using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Qmig.Linux;
using Qmig.Linux.Memory;

namespace Qmig.Benchmarks.Linux;

/// <summary>
/// How <c>qmig receive</c> stores precopy pages: 4 KiB pages into a memfd-backed block registered with
/// userfaultfd, through <see cref="RamBlockMemory.StoreUnregistered"/> (a copy into the memfd's second,
/// unregistered mapping, state array included), against a plain copy of the same pages into ordinary
/// memory (the baseline) and against one pwrite per page (what StoreUnregistered did before).
/// The pages stay in the memfd between iterations, as re-sent precopy pages do.
/// </summary>
[MinColumn, MedianColumn]
public unsafe class PrecopyStoreBenchmarks
{
    private const int Pages = 4096;
    private static readonly int PageSize = Environment.SystemPageSize;

    private GuestMemory? _memory;
    private RamBlockMemory _block = null!;
    private byte* _source;
    private byte* _plain;

    [GlobalSetup]
    public void Setup()
    {
        _memory = new GuestMemory(Userfaultfd.Open(new UserfaultfdOptions { OptionalFeatures = UffdFeatures.None }), ownsUserfaultfd: true);
        _block = _memory.AddBlock("pc.ram", (ulong)Pages * (ulong)PageSize, new RamBlockOptions { MemfdBacked = true });
        _source = (byte*)NativeMemory.AlignedAlloc((nuint)(Pages * PageSize), (nuint)PageSize);
        _plain = (byte*)NativeMemory.AlignedAlloc((nuint)(Pages * PageSize), (nuint)PageSize);
        new Span<byte>(_source, Pages * PageSize).Fill(0x5A);
        new Span<byte>(_plain, Pages * PageSize).Clear();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _memory?.Dispose();
        NativeMemory.AlignedFree(_source);
        NativeMemory.AlignedFree(_plain);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Pages)]
    public void PlainCopy()
    {
        for (int page = 0; page < Pages; page++)
        {
            new ReadOnlySpan<byte>(_source + (page * PageSize), PageSize).CopyTo(new Span<byte>(_plain + (page * PageSize), PageSize));
        }
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public void StoreUnregistered()
    {
        for (int page = 0; page < Pages; page++)
        {
            _block.StoreUnregistered((ulong)(page * PageSize), new ReadOnlySpan<byte>(_source + (page * PageSize), PageSize));
        }
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public void PWritePerPage()
    {
        var fd = _block.Memfd!;
        for (int page = 0; page < Pages; page++)
        {
            _ = Qmig.Linux.Interop.Libc.PWrite(fd, _source + (page * PageSize), (nuint)PageSize, page * PageSize);
        }
    }
}
