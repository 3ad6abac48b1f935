namespace Qmig.Wire.Streaming;

/// <summary>A conformance rule a stream can break; ids are stable and listed in <see cref="MigrationRules"/>.</summary>
public sealed record MigrationRule(string Id, string Title);

/// <summary>
/// Every rule the stream reader enforces. QMIG11xx: stream structure; QMIG12xx: sections and
/// footers; QMIG13xx: RAM; QMIG14xx: commands; QMIG15xx: return path; QMIG16xx: device state
/// decoded with the vmdesc; QMIG19xx: limits and
/// features not supported yet (exit code 3, not corruption).
/// </summary>
public static class MigrationRules
{
    public static readonly MigrationRule BadHeader = new("QMIG1101", "the stream must start with QEVM and version 3");
    public static readonly MigrationRule BadRecord = new("QMIG1102", "a record breaks its wire-format rule");
    public static readonly MigrationRule UnknownRecordType = new("QMIG1103", "unknown top-level record type");
    public static readonly MigrationRule Truncated = new("QMIG1104", "the stream ends inside a record or before QEMU_VM_EOF");
    public static readonly MigrationRule TrailingBytes = new("QMIG1105", "bytes after the end of the stream");
    public static readonly MigrationRule MisplacedRecord = new("QMIG1106", "a record type that is not allowed here");
    public static readonly MigrationRule BadConfiguration = new("QMIG1107", "configuration record or subsection is malformed");
    public static readonly MigrationRule VmDescriptionUndecodable = new("QMIG1108", "the VMDESCRIPTION JSON cannot be decoded: not UTF-8, not JSON, or nested too deeply");

    public static readonly MigrationRule UnknownSection = new("QMIG1201", "PART/END names a section id that was never started");
    public static readonly MigrationRule DuplicateSection = new("QMIG1202", "a section id is started twice");
    public static readonly MigrationRule FooterMismatch = new("QMIG1203", "missing section footer or footer id does not match its section");
    public static readonly MigrationRule DeviceBodySize = new("QMIG1204", "a device body does not end where its vmdesc says");
    public static readonly MigrationRule EmptyIdstr = new("QMIG1205", "a section idstr is empty or not printable");
    public static readonly MigrationRule BadRamVersion = new("QMIG1206", "the RAM section version must be 4");

    public static readonly MigrationRule PageOutsideBlock = new("QMIG1301", "a page offset is at or beyond its block's used length");
    public static readonly MigrationRule ContinueWithoutBlock = new("QMIG1302", "CONTINUE with no current block");
    public static readonly MigrationRule UnknownBlock = new("QMIG1303", "a RAM record names a block the block list did not announce");
    public static readonly MigrationRule BlockListTotal = new("QMIG1304", "block list lengths do not add up to the announced total");
    public static readonly MigrationRule BadRamFlags = new("QMIG1305", "invalid RAM flag combination");
    public static readonly MigrationRule UnalignedPage = new("QMIG1306", "a page offset is not aligned to the target page size");
    public static readonly MigrationRule BadXbzrle = new("QMIG1307", "an XBZRLE delta does not decode inside its page");
    public static readonly MigrationRule PostcopyRamRecord = new("QMIG1308", "a RAM record kind that postcopy mode does not allow");
    public static readonly MigrationRule DuplicateBlock = new("QMIG1309", "a block name appears twice in the block list");
    public static readonly MigrationRule NonZeroFill = new("QMIG1310", "a ZERO page with a non-zero fill byte (QEMU 10.x rejects it)");
    public static readonly MigrationRule BadCompressedPage = new("QMIG1311", "a compressed page does not inflate to exactly one page");
    public static readonly MigrationRule MappedRamLayout = new("QMIG1312", "a mapped-ram header is malformed: version, page size or page-area alignment");

    public static readonly MigrationRule UnknownCommand = new("QMIG1401", "command number out of range");
    public static readonly MigrationRule CommandLength = new("QMIG1402", "command payload length does not match the command");
    public static readonly MigrationRule CommandState = new("QMIG1403", "command not allowed in the current postcopy state");
    public static readonly MigrationRule DiscardRange = new("QMIG1404", "a discard range lies outside its block or is not page aligned");
    public static readonly MigrationRule PackageNesting = new("QMIG1405", "PACKAGED nested too deeply or a record crosses the package end");
    public static readonly MigrationRule PackageSize = new("QMIG1406", "PACKAGED length over the configured cap");
    public static readonly MigrationRule AdvisePageSize = new("QMIG1407", "POSTCOPY_ADVISE announces a target page size other than the stream's");

    public static readonly MigrationRule UnknownMessage = new("QMIG1501", "unknown return-path message type");
    public static readonly MigrationRule MessageLength = new("QMIG1502", "return-path message length does not match its type");
    public static readonly MigrationRule BadBitmapBlob = new("QMIG1503", "received-bitmap blob size or end marker is wrong");
    public static readonly MigrationRule RequestOutsideBlock = new("QMIG1504", "a page request lies outside its block or names no block");

    public static readonly MigrationRule DeviceStateMismatch = new("QMIG1601", "a device body does not match its vmdesc entry field by field");
    public static readonly MigrationRule DeviceNotDescribed = new("QMIG1602", "a FULL device section has no vmdesc entry");
    public static readonly MigrationRule VmDescriptionSyntax = new("QMIG1603", "the vmdesc decodes, but Python's json module would refuse it");

    public static readonly MigrationRule RecordTooLarge = new("QMIG1901", "a length field is over the configured cap");
    public static readonly MigrationRule Unsupported = new("QMIG1902", "a valid stream feature this tool does not support yet");

    public static IReadOnlyList<MigrationRule> All { get; } = typeof(MigrationRules)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.FieldType == typeof(MigrationRule))
        .Select(f => (MigrationRule)f.GetValue(null)!)
        .OrderBy(r => r.Id, StringComparer.Ordinal)
        .ToArray();
}
