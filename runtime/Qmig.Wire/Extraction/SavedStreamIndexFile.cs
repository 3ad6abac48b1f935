using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Qmig.Wire.IO;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.Extraction;

/// <summary>
/// A <see cref="SavedStreamLayout"/> kept in a file, so that a stream is indexed once and opened
/// later without the pass over all of its record headers. The file is ours, little-endian:
/// <c>"QMIGIDX\0"</c>, a format version, the length of the description that follows, the
/// description (the stream file's identity, the options it was read with, the configuration and
/// section ranges, the RAM blocks), each block's page entries as they are in memory, the decoded
/// pages, and the XXH128 of everything before it (a damaged entry would otherwise serve a wrong page
/// without a word). A checksum against damage, not a seal against forgery: what a forged index can do
/// is bounded by the checks below, and a non-cryptographic hash needs no crypto library loaded at start.
/// </summary>
/// <remarks>
/// An index file is input like any other: it is used only when it was made from this very file
/// (<see cref="FileIdentity"/>) with the same options, its checksum holds, and every entry points
/// inside the stream file and every slot inside the decoded pages, so a damaged or forged index can
/// make a guest wrong only in the ways a forged stream could, never read outside the file.
/// </remarks>
internal static unsafe class SavedStreamIndexFile
{
    private const uint FormatVersion = 2;
    private const int HeaderBytes = 16;
    private const int ChecksumBytes = 16;
    private const int MaxBlocks = 1 << 16;
    private const int MaxSections = 1 << 20;
    private const int MaxNameBytes = 1 << 10;

    private static ReadOnlySpan<byte> Magic => "QMIGIDX\0"u8;

    /// <summary>What, besides the file's identity, decides the layout: where the stream starts, and the page size the reader started from.</summary>
    public readonly record struct Key(long StartOffset, int InitialTargetPageSize);

    /// <summary>Writes the layout of a stream that is not mapped-ram (whose bitmaps are its index already) to <paramref name="path"/> through a temporary file renamed over it, so a reader never sees half of one.</summary>
    public static void Save(string path, SavedStreamLayout layout, FileIdentity identity, Key key)
    {
        if (layout.MappedRam)
        {
            throw new ArgumentException("a mapped-ram stream's bitmaps are its index", nameof(layout));
        }

        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var hash = new XxHash128();
                var description = Describe(layout, identity, key);
                Span<byte> header = stackalloc byte[HeaderBytes];
                Magic.CopyTo(header);
                BinaryPrimitives.WriteUInt32LittleEndian(header[8..], FormatVersion);
                BinaryPrimitives.WriteInt32LittleEndian(header[12..], description.Length);
                Write(file, hash, header);
                Write(file, hash, description);
                foreach (var block in layout.Blocks)
                {
                    foreach (var (offset, length) in block.EntryChunks())
                    {
                        Write(file, hash, block.EntrySpan(offset, length));
                    }
                }

                for (var slot = 0L; slot < layout.DecodedSlotCount; slot++)
                {
                    Write(file, hash, layout.Decoded.Page(slot));
                }

                file.Write(hash.GetHashAndReset());
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// The layout kept in <paramref name="path"/>, or null with the reason it cannot be used for
    /// the stream in <paramref name="mapping"/> (missing, made from another file or version of it,
    /// with other options, damaged, or pointing outside the file).
    /// </summary>
    public static SavedStreamLayout? TryLoad(string path, FileMapping mapping, FileIdentity identity, Key key, SavedStreamOptions limits, out string problem)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = e is FileNotFoundException ? "there is none yet" : $"it cannot be opened: {e.Message}";
            return null;
        }

        using (handle)
        {
            var layout = new SavedStreamLayout();
            try
            {
                problem = Read(handle, layout, mapping, identity, key, limits) ?? "";
                if (problem.Length == 0)
                {
                    return layout;
                }
            }
            catch (Exception e) when (e is IOException or OutOfMemoryException or FormatException or DecoderFallbackException)
            {
                problem = $"it cannot be read: {e.Message}";
            }

            layout.Dispose();
            return null;
        }
    }

    private static string? Read(SafeFileHandle handle, SavedStreamLayout layout, FileMapping mapping, FileIdentity identity, Key key, SavedStreamOptions limits)
    {
        var indexLength = RandomAccess.GetLength(handle);
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (indexLength < HeaderBytes + ChecksumBytes || RandomAccess.Read(handle, header, 0) != HeaderBytes || !header[..8].SequenceEqual(Magic))
        {
            return "it is not a qmig index file";
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) != FormatVersion)
        {
            return $"it has format version {BinaryPrimitives.ReadUInt32LittleEndian(header[8..])}, and this qmig reads version {FormatVersion}";
        }

        var descriptionLength = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        if (descriptionLength < 0 || descriptionLength > indexLength - HeaderBytes - ChecksumBytes)
        {
            return "its description runs past its end";
        }

        var hash = new XxHash128();
        hash.Append(header);
        var description = new byte[descriptionLength];
        ReadExactly(handle, description, HeaderBytes, hash);
        using var reader = new BinaryReader(new MemoryStream(description), Encoding.UTF8);
        if (ReadIdentity(reader) != identity)
        {
            return "the stream file changed since it was made (size, times or inode differ)";
        }

        if (new Key(reader.ReadInt64(), reader.ReadInt32()) != key)
        {
            return "it was made with another start offset or target page size";
        }

        var problem = ReadDescription(reader, layout, mapping.Length, limits, out var decodedSlots);
        if (problem is not null)
        {
            return problem;
        }

        var payloadAt = (long)HeaderBytes + descriptionLength;
        var payloadBytes = layout.Blocks.Sum(b => b.EntryBytes) + (decodedSlots * layout.PageSize);
        if (indexLength != payloadAt + payloadBytes + ChecksumBytes)
        {
            return $"it has {indexLength} bytes where its description calls for {payloadAt + payloadBytes + ChecksumBytes}";
        }

        foreach (var block in layout.Blocks)
        {
            foreach (var (offset, length) in block.EntryChunks())
            {
                ReadExactly(handle, block.EntrySpan(offset, length), payloadAt, hash);
                payloadAt += length;
            }
        }

        for (var slot = 0L; slot < decodedSlots; slot++)
        {
            var page = layout.Decoded.Page(layout.Decoded.Allocate());
            ReadExactly(handle, page, payloadAt, hash);
            payloadAt += page.Length;
        }

        Span<byte> checksum = stackalloc byte[ChecksumBytes];
        ReadExactly(handle, checksum, payloadAt, hash: null);
        if (!checksum.SequenceEqual(hash.GetHashAndReset()))
        {
            return "it is damaged (its checksum does not match)";
        }

        return CheckEntries(layout, mapping, decodedSlots);
    }

    private static byte[] Describe(SavedStreamLayout layout, FileIdentity identity, Key key)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(identity.Device);
            writer.Write(identity.Inode);
            writer.Write(identity.Size);
            writer.Write(identity.ModifiedSeconds);
            writer.Write(identity.ModifiedNanoseconds);
            writer.Write(identity.ChangedSeconds);
            writer.Write(identity.ChangedNanoseconds);
            writer.Write(key.StartOffset);
            writer.Write(key.InitialTargetPageSize);
            writer.Write(layout.PageSize);
            writer.Write(layout.MachineType is not null);
            writer.Write(layout.MachineType ?? "");
            WriteRange(writer, layout.Configuration);
            writer.Write(layout.ConfigurationSubsections.Count);
            foreach (var (name, start, end) in layout.ConfigurationSubsections)
            {
                writer.Write(name);
                WriteRange(writer, (start, end));
            }

            WriteRanges(writer, layout.EarlySetupSections);
            WriteRanges(writer, layout.DeviceSections);
            writer.Write(layout.Blocks.Count);
            foreach (var index in layout.Blocks)
            {
                var block = index.Block;
                writer.Write(block.NameBytes.Length);
                writer.Write(block.NameBytes);
                writer.Write(block.UsedLength);
                writer.Write(block.PageSize is not null);
                writer.Write(block.PageSize ?? 0);
            }

            writer.Write(layout.DecodedSlotCount);
        }

        return buffer.ToArray();
    }

    private static string? ReadDescription(BinaryReader reader, SavedStreamLayout layout, long fileLength, SavedStreamOptions limits, out long decodedSlots)
    {
        decodedSlots = 0;
        var pageSize = reader.ReadInt32();
        if (pageSize < 512 || pageSize > 1 << 20 || !int.IsPow2(pageSize))
        {
            return $"its target page size {pageSize} is not a power of two between 512 and 1 MiB";
        }

        layout.PageSize = pageSize;
        var hasMachine = reader.ReadBoolean();
        var machine = reader.ReadString();
        layout.MachineType = hasMachine ? machine : null;
        if (ReadRange(reader, fileLength, out var configuration) is { } badConfiguration)
        {
            return "the configuration " + badConfiguration;
        }

        layout.Configuration = configuration;
        var subsections = ReadCount(reader, MaxSections);
        for (var i = 0; i < subsections; i++)
        {
            var name = reader.ReadString();
            if (ReadRange(reader, fileLength, out var range) is { } badSubsection)
            {
                return $"configuration subsection {i} " + badSubsection;
            }

            if (range.Start < configuration.Start || range.End > configuration.End)
            {
                return $"configuration subsection {i} lies outside the configuration record";
            }

            layout.ConfigurationSubsections.Add((name, range.Start, range.End));
        }

        if (ReadRanges(reader, fileLength, layout.EarlySetupSections) is { } badEarly)
        {
            return "an early set-up section " + badEarly;
        }

        if (ReadRanges(reader, fileLength, layout.DeviceSections) is { } badDevice)
        {
            return "a device section " + badDevice;
        }

        var deviceBytes = layout.EarlySetupSections.Concat(layout.DeviceSections).Sum(r => r.End - r.Start);
        if (deviceBytes > Array.MaxLength || configuration.End - configuration.Start > Array.MaxLength)
        {
            return "its device sections add up to more than one array can hold";
        }

        var blocks = ReadCount(reader, MaxBlocks);
        var ramBytes = 0L;
        for (var i = 0; i < blocks; i++)
        {
            var nameLength = ReadCount(reader, MaxNameBytes);
            var name = reader.ReadBytes(nameLength);
            var usedLength = reader.ReadUInt64();
            var hasPageSize = reader.ReadBoolean();
            var blockPageSize = reader.ReadUInt64();
            ramBytes += (long)Math.Min(usedLength, (ulong)long.MaxValue / 2);
            if (ramBytes > limits.MaxRamBytes)
            {
                return $"its RAM blocks add up to {ramBytes} bytes, over the cap of {limits.MaxRamBytes} (SavedStreamOptions.MaxRamBytes)";
            }

            layout.Blocks.Add(BlockPageIndex.ForRecords(new RamBlock(i, name, usedLength, hasPageSize ? blockPageSize : null, mrAddr: null), pageSize));
        }

        decodedSlots = reader.ReadInt64();
        if (decodedSlots < 0 || decodedSlots * (double)pageSize > limits.MaxDecodedPageBytes)
        {
            return $"its {decodedSlots} decoded pages are over the cap of {limits.MaxDecodedPageBytes} bytes (SavedStreamOptions.MaxDecodedPageBytes)";
        }

        return reader.BaseStream.Position == reader.BaseStream.Length ? null : "its description has bytes after its end";
    }

    /// <summary>Every entry must name a whole page inside the stream file, a zlib stream whose length prefix keeps it inside, or a decoded slot that exists.</summary>
    private static string? CheckEntries(SavedStreamLayout layout, FileMapping mapping, long decodedSlots)
    {
        var pageSize = (ulong)layout.PageSize;
        var fileLength = (ulong)mapping.Length;
        foreach (var block in layout.Blocks)
        {
            for (var page = 0L; page < block.PageCount; page++)
            {
                var entry = block[page];
                var value = entry & BlockPageIndex.ValueMask;
                var inside = (entry & BlockPageIndex.KindMask) switch
                {
                    BlockPageIndex.FilePage => value <= fileLength && pageSize <= fileLength - value,
                    BlockPageIndex.CompressedPage => value >= 4 && value <= fileLength
                        && BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(mapping.Pointer + value - 4, 4)) <= fileLength - value,
                    BlockPageIndex.DecodedPage => value < (ulong)decodedSlots,
                    _ => entry == 0,
                };
                if (!inside)
                {
                    return $"its entry for page {page} of block '{block.Block.Name}' (0x{entry:x16}) points outside the stream file or the decoded pages";
                }
            }
        }

        return null;
    }

    private static FileIdentity ReadIdentity(BinaryReader reader) =>
        new(reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadInt64(), reader.ReadUInt32(), reader.ReadInt64(), reader.ReadUInt32());

    private static void WriteRange(BinaryWriter writer, (long Start, long End) range)
    {
        writer.Write(range.Start);
        writer.Write(range.End);
    }

    private static void WriteRanges(BinaryWriter writer, List<(long Start, long End)> ranges)
    {
        writer.Write(ranges.Count);
        foreach (var range in ranges)
        {
            WriteRange(writer, range);
        }
    }

    private static string? ReadRange(BinaryReader reader, long fileLength, out (long Start, long End) range)
    {
        range = (reader.ReadInt64(), reader.ReadInt64());
        return range.Start >= 0 && range.Start <= range.End && range.End <= fileLength ? null : $"range 0x{range.Start:x}..0x{range.End:x} lies outside the stream file";
    }

    private static string? ReadRanges(BinaryReader reader, long fileLength, List<(long Start, long End)> ranges)
    {
        var count = ReadCount(reader, MaxSections);
        for (var i = 0; i < count; i++)
        {
            if (ReadRange(reader, fileLength, out var range) is { } problem)
            {
                return problem;
            }

            ranges.Add(range);
        }

        return null;
    }

    private static int ReadCount(BinaryReader reader, int max)
    {
        var count = reader.ReadInt32();
        return count >= 0 && count <= max ? count : throw new IOException($"a count of {count} where at most {max} can be");
    }

    private static void Write(FileStream file, XxHash128 hash, ReadOnlySpan<byte> bytes)
    {
        hash.Append(bytes);
        file.Write(bytes);
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, XxHash128? hash)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var read = RandomAccess.Read(handle, buffer[done..], offset + done);
            if (read == 0)
            {
                throw new EndOfStreamException($"it ends at {offset + done} bytes");
            }

            done += read;
        }

        hash?.Append(buffer);
    }
}
