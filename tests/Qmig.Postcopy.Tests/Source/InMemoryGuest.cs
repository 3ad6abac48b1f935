using System.Buffers;
using Qmig.Postcopy.Source;
using Qmig.Wire;
using Qmig.Wire.Writing;

namespace Qmig.Postcopy.Tests.Source;

/// <summary>
/// A guest whose RAM is byte arrays (some pages zero), with a configuration record and one device section,
/// for driving the source engine without QEMU. Reads outside a block are counted, not served.
/// </summary>
internal sealed class InMemoryGuest : IMigrationGuest
{
    private readonly byte[][] _ram;
    private int _readsOutside;

    public InMemoryGuest(int seed, params (string Name, int Pages)[] blocks)
    {
        var random = new Random(seed);
        RamBlocks = blocks.Select(b => new GuestRamBlock(b.Name, (long)b.Pages * 4096, 4096)).ToArray();
        _ram = blocks.Select(b =>
        {
            var bytes = new byte[b.Pages * 4096];
            for (var page = 0; page < b.Pages; page++)
            {
                // About one page in four stays zero, so ZERO records go out too.
                if (random.Next(4) != 0)
                {
                    random.NextBytes(bytes.AsSpan(page * 4096, 4096));
                }
            }

            return bytes;
        }).ToArray();

        var configuration = new ArrayBufferWriter<byte>();
        new MigrationStreamWriter(configuration).Configuration("pc-i440fx-7.2");
        ConfigurationRecord = configuration.WrittenMemory.ToArray();

        var device = new ArrayBufferWriter<byte>();
        var writer = new MigrationStreamWriter(device);
        writer.SectionStart(7, "timer", 0, 2, full: true);
        writer.Raw([1, 2, 3, 4, 5, 6, 7, 8]);
        writer.Footer(7);
        DeviceSections = [device.WrittenMemory.ToArray()];
    }

    public int TargetPageSize => 4096;

    public IReadOnlyList<GuestRamBlock> RamBlocks { get; }

    public string? MachineType => "pc-i440fx-7.2";

    public ReadOnlyMemory<byte> ConfigurationRecord { get; }

    public IReadOnlyList<ReadOnlyMemory<byte>> EarlySetupSections => [];

    public IReadOnlyList<ReadOnlyMemory<byte>> DeviceSections { get; }

    public IDirtyPageSource? DirtyPages => null;

    public int ReadsOutside => Volatile.Read(ref _readsOutside);

    public ReadOnlySpan<byte> Page(int block, long page) => _ram[block].AsSpan((int)(page * 4096), 4096);

    public ReadOnlySpan<byte> ReadPage(int blockIndex, long targetPage, Span<byte> scratch)
    {
        if ((uint)blockIndex >= (uint)_ram.Length || targetPage < 0 || targetPage >= _ram[blockIndex].Length / 4096)
        {
            Interlocked.Increment(ref _readsOutside);
            throw new ArgumentOutOfRangeException(nameof(targetPage), $"page {targetPage} of block {blockIndex} is outside the guest");
        }

        var page = Page(blockIndex, targetPage);
        return page.ContainsAnyExcept((byte)0) ? page : default;
    }
}
