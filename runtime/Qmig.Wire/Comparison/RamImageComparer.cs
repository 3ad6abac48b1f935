using Qmig.Wire.Extraction;

namespace Qmig.Wire.Comparison;

/// <summary>
/// Compares the final RAM of two streams block by block through their extracted images, reading
/// both in large chunks, so memory stays bounded however big the guest is. Differing pages are
/// coalesced into ranges.
/// </summary>
public static class RamImageComparer
{
    private const int ChunkSize = 1 << 20;

    /// <summary>
    /// The blocks whose final pages differ between <paramref name="a"/> and <paramref name="b"/> (matched
    /// by name, compared over their common length in pages of <paramref name="a"/>'s target page size),
    /// in <paramref name="a"/>'s order, then the blocks only <paramref name="b"/> has.
    /// </summary>
    public static IReadOnlyList<RamDifference> Compare(StreamExtraction a, StreamExtraction b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var pageSize = Math.Max(1, a.TargetPageSize);
        var right = b.Images.ToDictionary(i => i.Block.Name, StringComparer.Ordinal);
        var differences = new List<RamDifference>();
        foreach (var (block, path) in a.Images)
        {
            if (!right.Remove(block.Name, out var other))
            {
                differences.Add(new RamDifference(block.Name, DiffPresence.OnlyInA, block.UsedLength, null, 0, []));
                continue;
            }

            var ranges = new List<PageRange>();
            var pages = CompareImages(path, other.Path, Math.Min(block.UsedLength, other.Block.UsedLength), pageSize, ranges);
            if (pages > 0 || block.UsedLength != other.Block.UsedLength)
            {
                differences.Add(new RamDifference(block.Name, DiffPresence.Both, block.UsedLength, other.Block.UsedLength, pages, ranges));
            }
        }

        foreach (var (block, _) in b.Images.Where(i => right.ContainsKey(i.Block.Name)))
        {
            differences.Add(new RamDifference(block.Name, DiffPresence.OnlyInB, null, block.UsedLength, 0, []));
        }

        return differences;
    }

    /// <summary>Compares the first <paramref name="length"/> bytes page by page; returns the number of differing pages.</summary>
    private static long CompareImages(string pathA, string pathB, ulong length, int pageSize, List<PageRange> ranges)
    {
        using var a = new FileStream(pathA, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        using var b = new FileStream(pathB, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var chunk = Math.Max(pageSize, ChunkSize / pageSize * pageSize);
        var bufferA = new byte[chunk];
        var bufferB = new byte[chunk];
        long pages = 0;
        ulong offset = 0;
        while (offset < length)
        {
            var count = (int)Math.Min((ulong)chunk, length - offset);
            a.ReadExactly(bufferA, 0, count);
            b.ReadExactly(bufferB, 0, count);
            if (!bufferA.AsSpan(0, count).SequenceEqual(bufferB.AsSpan(0, count)))
            {
                for (var at = 0; at < count; at += pageSize)
                {
                    var size = Math.Min(pageSize, count - at);
                    if (!bufferA.AsSpan(at, size).SequenceEqual(bufferB.AsSpan(at, size)))
                    {
                        pages++;
                        Add(ranges, offset + (ulong)at, offset + (ulong)(at + size));
                    }
                }
            }

            offset += (ulong)count;
        }

        return pages;
    }

    private static void Add(List<PageRange> ranges, ulong start, ulong end)
    {
        if (ranges.Count > 0 && ranges[^1].End == start)
        {
            ranges[^1] = ranges[^1] with { End = end };
        }
        else
        {
            ranges.Add(new PageRange(start, end));
        }
    }
}
