using System.Security.Cryptography;
using System.Text;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.Tests.Hostile;

/// <summary>Records what the reader reports in the same words <see cref="StreamModelWriter"/> predicts.</summary>
public readonly struct ModelLogVisitor(List<string> log) : IMigrationVisitor
{
    public void OnFileHeader(in RecordInfo record, uint version) => log.Add($"FileHeader {version}");

    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) => log.Add($"Configuration {Encoding.ASCII.GetString(machineName)}");

    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) =>
        log.Add($"Subsection {Encoding.ASCII.GetString(name)} {version} {Convert.ToHexString(body)}");

    public void OnSectionHeader(in RecordInfo record, SectionInfo section) =>
        log.Add($"Section {record.Kind} {section.Id} {section.Idstr} {section.InstanceId} {section.VersionId}");

    public void OnRamBlock(in RecordInfo record, RamBlock block) => log.Add($"RamBlock {block.Name} {block.UsedLength:x}");

    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        if (block is null)
        {
            log.Add((ram.AddrFlags & (ulong)RamSaveFlag.MemSize) != 0 ? $"Ram MemSize {ram.AddrFlags & ~0xfffUL:x}"
                : (ram.AddrFlags & (ulong)RamSaveFlag.Eos) != 0 ? "Ram Eos" : $"Ram Other {ram.AddrFlags:x}");
            return;
        }

        log.Add(ram.IsZero ? $"Ram Zero {block.Name}@{ram.Offset:x} {ram.Fill}"
            : ram.IsPage ? $"Ram Page {block.Name}@{ram.Offset:x} {Convert.ToHexString(SHA1.HashData(ram.Page))}"
            : ram.IsXbzrle ? $"Ram Xbzrle {block.Name}@{ram.Offset:x} {Convert.ToHexString(ram.XbzrleData)}"
            : $"Ram Other {block.Name}@{ram.Offset:x} {ram.AddrFlags:x}");
    }

    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) => log.Add($"Body {section.Id} {Convert.ToHexString(body)}");

    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header) => log.Add($"MappedRamHeader {block.Name}");

    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap) => log.Add($"MappedRamBitmap {block.Name}");

    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages) => log.Add($"RamPages {block.Name}@{offset:x} {pages.Length}");

    public void OnSectionFooter(in RecordInfo record, SectionInfo section) => log.Add($"Footer {section.Id}");

    public void OnCommand(in RecordInfo record, in Command command) => log.Add($"Command {command.Cmd} {Convert.ToHexString(command.Payload)}");

    public void OnEndOfSections(in RecordInfo record) => log.Add("Eof");

    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) => log.Add($"VmDescription {json.Length}");
}
