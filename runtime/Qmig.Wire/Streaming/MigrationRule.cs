namespace Qmig.Wire.Streaming;

/// <summary>A conformance rule a stream can break; ids are stable and listed in <see cref="MigrationRules"/>.</summary>
/// <param name="Id">The stable id an error message and <c>qmig check --list-rules</c> show, e.g. <c>QMIG1104</c>.</param>
/// <param name="Title">What the rule requires, in one lower-case phrase that follows the id in messages.</param>
public sealed record MigrationRule(string Id, string Title);

/// <summary>
/// Every rule the stream reader enforces. QMIG11xx: stream structure; QMIG12xx: sections and
/// footers; QMIG13xx: RAM; QMIG14xx: commands; QMIG15xx: return path; QMIG16xx: device state
/// decoded with the vmdesc; QMIG19xx: limits and
/// features not supported yet (exit code 3, not corruption).
/// </summary>
public static class MigrationRules
{
    /// <summary>QMIG1101: The stream must start with QEVM and version 3.</summary>
    public static readonly MigrationRule BadHeader = new("QMIG1101", "the stream must start with QEVM and version 3");
    /// <summary>QMIG1102: A record breaks its wire-format rule.</summary>
    public static readonly MigrationRule BadRecord = new("QMIG1102", "a record breaks its wire-format rule");
    /// <summary>QMIG1103: Unknown top-level record type.</summary>
    public static readonly MigrationRule UnknownRecordType = new("QMIG1103", "unknown top-level record type");
    /// <summary>QMIG1104: The stream ends inside a record or before QEMU_VM_EOF.</summary>
    public static readonly MigrationRule Truncated = new("QMIG1104", "the stream ends inside a record or before QEMU_VM_EOF");
    /// <summary>QMIG1105: Bytes after the end of the stream.</summary>
    public static readonly MigrationRule TrailingBytes = new("QMIG1105", "bytes after the end of the stream");
    /// <summary>QMIG1106: A record type that is not allowed here.</summary>
    public static readonly MigrationRule MisplacedRecord = new("QMIG1106", "a record type that is not allowed here");
    /// <summary>QMIG1107: Configuration record or subsection is malformed.</summary>
    public static readonly MigrationRule BadConfiguration = new("QMIG1107", "configuration record or subsection is malformed");
    /// <summary>QMIG1108: The VMDESCRIPTION JSON cannot be decoded: not UTF-8, not JSON, or nested too deeply.</summary>
    public static readonly MigrationRule VmDescriptionUndecodable = new("QMIG1108", "the VMDESCRIPTION JSON cannot be decoded: not UTF-8, not JSON, or nested too deeply");

    /// <summary>QMIG1201: PART/END names a section id that was never started.</summary>
    public static readonly MigrationRule UnknownSection = new("QMIG1201", "PART/END names a section id that was never started");
    /// <summary>QMIG1202: A section id is started twice.</summary>
    public static readonly MigrationRule DuplicateSection = new("QMIG1202", "a section id is started twice");
    /// <summary>QMIG1203: Missing section footer or footer id does not match its section.</summary>
    public static readonly MigrationRule FooterMismatch = new("QMIG1203", "missing section footer or footer id does not match its section");
    /// <summary>QMIG1204: A device body does not end where its vmdesc says.</summary>
    public static readonly MigrationRule DeviceBodySize = new("QMIG1204", "a device body does not end where its vmdesc says");
    /// <summary>QMIG1205: A section idstr is empty or not printable.</summary>
    public static readonly MigrationRule EmptyIdstr = new("QMIG1205", "a section idstr is empty or not printable");
    /// <summary>QMIG1206: The RAM section version must be 4.</summary>
    public static readonly MigrationRule BadRamVersion = new("QMIG1206", "the RAM section version must be 4");

    /// <summary>QMIG1301: A page offset is at or beyond its block's used length.</summary>
    public static readonly MigrationRule PageOutsideBlock = new("QMIG1301", "a page offset is at or beyond its block's used length");
    /// <summary>QMIG1302: CONTINUE with no current block.</summary>
    public static readonly MigrationRule ContinueWithoutBlock = new("QMIG1302", "CONTINUE with no current block");
    /// <summary>QMIG1303: A RAM record names a block the block list did not announce.</summary>
    public static readonly MigrationRule UnknownBlock = new("QMIG1303", "a RAM record names a block the block list did not announce");
    /// <summary>QMIG1304: Block list lengths do not add up to the announced total.</summary>
    public static readonly MigrationRule BlockListTotal = new("QMIG1304", "block list lengths do not add up to the announced total");
    /// <summary>QMIG1305: Invalid RAM flag combination.</summary>
    public static readonly MigrationRule BadRamFlags = new("QMIG1305", "invalid RAM flag combination");
    /// <summary>QMIG1306: A page offset is not aligned to the target page size.</summary>
    public static readonly MigrationRule UnalignedPage = new("QMIG1306", "a page offset is not aligned to the target page size");
    /// <summary>QMIG1307: An XBZRLE delta does not decode inside its page.</summary>
    public static readonly MigrationRule BadXbzrle = new("QMIG1307", "an XBZRLE delta does not decode inside its page");
    /// <summary>QMIG1308: A RAM record kind that postcopy mode does not allow.</summary>
    public static readonly MigrationRule PostcopyRamRecord = new("QMIG1308", "a RAM record kind that postcopy mode does not allow");
    /// <summary>QMIG1309: A block name appears twice in the block list.</summary>
    public static readonly MigrationRule DuplicateBlock = new("QMIG1309", "a block name appears twice in the block list");
    /// <summary>QMIG1310: A ZERO page with a non-zero fill byte (QEMU 10.x rejects it).</summary>
    public static readonly MigrationRule NonZeroFill = new("QMIG1310", "a ZERO page with a non-zero fill byte (QEMU 10.x rejects it)");
    /// <summary>QMIG1311: A compressed page does not inflate to exactly one page.</summary>
    public static readonly MigrationRule BadCompressedPage = new("QMIG1311", "a compressed page does not inflate to exactly one page");
    /// <summary>QMIG1312: A mapped-ram header is malformed: version, page size or page-area alignment.</summary>
    public static readonly MigrationRule MappedRamLayout = new("QMIG1312", "a mapped-ram header is malformed: version, page size or page-area alignment");

    /// <summary>QMIG1401: Command number out of range.</summary>
    public static readonly MigrationRule UnknownCommand = new("QMIG1401", "command number out of range");
    /// <summary>QMIG1402: Command payload length does not match the command.</summary>
    public static readonly MigrationRule CommandLength = new("QMIG1402", "command payload length does not match the command");
    /// <summary>QMIG1403: Command not allowed in the current postcopy state.</summary>
    public static readonly MigrationRule CommandState = new("QMIG1403", "command not allowed in the current postcopy state");
    /// <summary>QMIG1404: A discard range lies outside its block or is not page aligned.</summary>
    public static readonly MigrationRule DiscardRange = new("QMIG1404", "a discard range lies outside its block or is not page aligned");
    /// <summary>QMIG1405: PACKAGED nested too deeply or a record crosses the package end.</summary>
    public static readonly MigrationRule PackageNesting = new("QMIG1405", "PACKAGED nested too deeply or a record crosses the package end");
    /// <summary>QMIG1406: PACKAGED length over the configured cap.</summary>
    public static readonly MigrationRule PackageSize = new("QMIG1406", "PACKAGED length over the configured cap");
    /// <summary>QMIG1407: POSTCOPY_ADVISE announces a target page size other than the stream's.</summary>
    public static readonly MigrationRule AdvisePageSize = new("QMIG1407", "POSTCOPY_ADVISE announces a target page size other than the stream's");

    /// <summary>QMIG1501: Unknown return-path message type.</summary>
    public static readonly MigrationRule UnknownMessage = new("QMIG1501", "unknown return-path message type");
    /// <summary>QMIG1502: Return-path message length does not match its type.</summary>
    public static readonly MigrationRule MessageLength = new("QMIG1502", "return-path message length does not match its type");
    /// <summary>QMIG1503: Received-bitmap blob size or end marker is wrong.</summary>
    public static readonly MigrationRule BadBitmapBlob = new("QMIG1503", "received-bitmap blob size or end marker is wrong");
    /// <summary>QMIG1504: A page request lies outside its block or names no block.</summary>
    public static readonly MigrationRule RequestOutsideBlock = new("QMIG1504", "a page request lies outside its block or names no block");

    /// <summary>QMIG1601: A device body does not match its vmdesc entry field by field.</summary>
    public static readonly MigrationRule DeviceStateMismatch = new("QMIG1601", "a device body does not match its vmdesc entry field by field");
    /// <summary>QMIG1602: A FULL device section has no vmdesc entry.</summary>
    public static readonly MigrationRule DeviceNotDescribed = new("QMIG1602", "a FULL device section has no vmdesc entry");
    /// <summary>QMIG1603: The vmdesc decodes, but Python's json module would refuse it.</summary>
    public static readonly MigrationRule VmDescriptionSyntax = new("QMIG1603", "the vmdesc decodes, but Python's json module would refuse it");

    /// <summary>QMIG1901: A length field is over the configured cap.</summary>
    public static readonly MigrationRule RecordTooLarge = new("QMIG1901", "a length field is over the configured cap");
    /// <summary>QMIG1902: A valid stream feature this tool does not support yet.</summary>
    public static readonly MigrationRule Unsupported = new("QMIG1902", "a valid stream feature this tool does not support yet");

    /// <summary>Every rule, ordered by id, for listing them (<c>qmig check --list-rules</c>) or looking one up by id.</summary>
    public static IReadOnlyList<MigrationRule> All { get; } = typeof(MigrationRules)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.FieldType == typeof(MigrationRule))
        .Select(f => (MigrationRule)f.GetValue(null)!)
        .OrderBy(r => r.Id, StringComparer.Ordinal)
        .ToArray();
}
