namespace Qmig.Wire.Tests.Hostile;

/// <summary>
/// A valid migration stream as choices, before it is written: the generators produce these and
/// <see cref="StreamModelWriter"/> turns one into bytes plus the records a reader must report.
/// Page and block picks are indices taken modulo what exists, so every choice is valid.
/// </summary>
public sealed record StreamModel(
    bool Footers,
    bool WithVmDescription,
    bool OpenReturnPath,
    uint? Ping,
    bool Postcopy,
    BlockModel[] Blocks,
    PageModel[][] Iterations,
    DeviceModel[] Devices,
    DiscardModel? Discard,
    DeviceModel[] PackagedDevices,
    PageModel[] FinalPages)
{
    public override string ToString() =>
        $"footers={Footers} vmdesc={WithVmDescription} rp={OpenReturnPath} ping={Ping} postcopy={Postcopy} blocks=[{string.Join(",", Blocks.Select(b => $"{b.Name}:{b.Pages}"))}] " +
        $"iterations=[{string.Join(",", Iterations.Select(i => i.Length))}] devices={Devices.Length} packaged={PackagedDevices.Length} discard={Discard is not null} final={FinalPages.Length}";
}

public sealed record BlockModel(string Name, int Pages);

public enum PageKind
{
    Zero,
    Page,
    Xbzrle,
}

/// <summary>One page record; <see cref="Data"/> is the page seed, or the XBZRLE delta.</summary>
public sealed record PageModel(int Block, int Page, PageKind Kind, byte Fill, byte[] Data);

public sealed record DeviceModel(string Idstr, uint Instance, uint Version, byte[] Body);

public sealed record DiscardModel(int Block, (int Page, int Pages)[] Ranges);
