using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Qmig.Linux;
using Qmig.Linux.Memory;
using Qmig.Postcopy.Destination;
using Qmig.Wire;
using Qmig.Wire.Streaming;
using Vmm.Devices;
using Vmm.Devices.Machines;

// A VMM's use of the qmig packages, one verb per use:
//   roundtrip            its own record (specs/timer_state.ksy) written and read back, its own machine (specs/door.fsm.yaml) fired
//   read FILE            a real migration stream read with MigrationStreamReader: records and RAM pages counted
//   receive PORT OUT     a real QEMU's postcopy migration received into memory this program maps itself,
//                        a vCPU of its own started at POSTCOPY_RUN; then pc.ram written to OUT
return args switch
{
    ["roundtrip"] => RoundTrip(),
    ["read", var file] => Read(file),
    ["receive", var port, var output] => await ReceiveAsync(int.Parse(port, System.Globalization.CultureInfo.InvariantCulture), output),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Vmm.Consumer roundtrip | read FILE | receive PORT OUT");
    return 2;
}

static int RoundTrip()
{
    Span<byte> bytes = stackalloc byte[TimerState.Size];
    if (TimerState.TryWrite(bytes, 5_000_000_000, 1_000_000, out var written) != OperationStatus.Done || written != TimerState.Size)
    {
        Console.Error.WriteLine("timer_state: the generated writer did not write the record");
        return 1;
    }

    if (TimerState.TryRead(bytes, out var back, out _, out Qmig.Wire.WireError error) != OperationStatus.Done)
    {
        Console.Error.WriteLine($"timer_state: the generated reader refused what the writer wrote: {error}");
        return 1;
    }

    var door = DoorMachine.Fire(DoorMachine.Initial, DoorMachine.Trigger.Push);
    Console.WriteLine($"timer_state {Convert.ToHexString(bytes)} deadline_ns={back.DeadlineNs} period_ns={back.PeriodNs}");
    Console.WriteLine($"door {DoorMachine.Initial} -> {door}; machines: {string.Join(", ", MachineCatalog.All.Select(m => m.Name))}; qmig's: {Qmig.Wire.Machines.MachineCatalog.All.Count}");
    return 0;
}

static int Read(string file)
{
    var reader = new MigrationStreamReader();
    var counter = new RecordCounter();
    var error = MigrationStreamDriver.ReadFile(file, reader, ref counter);
    Console.WriteLine($"records={counter.Records} ram_records={counter.RamRecords} pages={counter.Pages} zero_pages={counter.ZeroPages} sections={counter.Sections} complete={reader.IsCompleted}");
    if (error is not null)
    {
        Console.Error.WriteLine(error.Format(file));
        return 1;
    }

    return 0;
}

static async Task<int> ReceiveAsync(int port, string output)
{
    using var listener = new TcpListener(IPAddress.Loopback, port);
    listener.Start(1);
    Console.Error.WriteLine($"listening on {listener.LocalEndpoint}");
    using var memory = new OwnMemory();
    var vcpu = new Vcpu();
    var devicesAtRun = 0;
    var options = new DestinationOptions
    {
        OnPostcopyRun = run =>
        {
            // Here a VMM loads run.Devices into its device models and starts its vCPUs.
            devicesAtRun = run.Devices.Count;
            vcpu.Start(run.Blocks);
            return null;
        },
    };
    using var destination = new PostcopyDestination(memory, options);
    using var connection = await listener.AcceptSocketAsync();
    var outcome = await destination.ReceiveAsync(connection);
    vcpu.Join();
    var pcRam = memory.Blocks.Single(block => block.Name == "pc.ram");
    var ram = new byte[pcRam.Length];
    pcRam.ReadUnregistered(0, ram);
    await File.WriteAllBytesAsync(output, ram);
    Console.WriteLine($"outcome={outcome} devices_at_run={devicesAtRun} faults={destination.Stats.Faults} requested={destination.Stats.PostcopyRequestedPages} blocks={string.Join(",", memory.Blocks.Select(b => b.Name))}");
    return outcome == ReceiveOutcome.Completed ? 0 : 1;
}

/// <summary>Counts what a stream holds, the way any tool of a VMM's would walk it.</summary>
internal struct RecordCounter : IMigrationVisitor
{
    public long Records;
    public long RamRecords;
    public long Pages;
    public long ZeroPages;
    public long Sections;

    public void OnFileHeader(in RecordInfo record, uint version) => Records++;

    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) => Records++;

    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) => Records++;

    public void OnSectionHeader(in RecordInfo record, SectionInfo section)
    {
        Records++;
        Sections++;
    }

    public void OnRamBlock(in RecordInfo record, RamBlock block)
    {
    }

    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        RamRecords++;
        Pages += ram.IsPage ? 1 : 0;
        ZeroPages += ram.IsZero ? 1 : 0;
    }

    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header)
    {
    }

    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
    {
    }

    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages)
    {
    }

    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body)
    {
    }

    public void OnSectionFooter(in RecordInfo record, SectionInfo section) => Records++;

    public void OnCommand(in RecordInfo record, in Command command) => Records++;

    public void OnEndOfSections(in RecordInfo record) => Records++;

    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) => Records++;
}

/// <summary>The VMM's guest RAM: memfd-backed blocks it maps itself, registered with its own userfaultfd.</summary>
internal sealed class OwnMemory : IDestinationMemory, IDisposable
{
    private readonly List<RamBlockMemory> _blocks = [];

    public Userfaultfd Userfaultfd { get; } = Userfaultfd.Open();

    public IReadOnlyList<RamBlockMemory> Blocks => _blocks;

    public RamBlockMemory ProvideBlock(string name, ulong length, int pageSize)
    {
        var block = RamBlockMemory.Create(Userfaultfd, name, length, new RamBlockOptions { MemfdBacked = true, PageSize = pageSize });
        _blocks.Add(block);
        return block;
    }

    public void Dispose()
    {
        foreach (var block in _blocks)
        {
            block.Dispose();
        }

        Userfaultfd.Dispose();
    }
}

/// <summary>A vCPU of the VMM's: reads a word of every page once, in address order, faulting on the pages still on the source.</summary>
internal sealed class Vcpu
{
    private Thread? _thread;

    public void Start(IReadOnlyList<RamBlockMemory> blocks)
    {
        RamBlockMemory[] sweep = [.. blocks];
        _thread = new Thread(() =>
        {
            foreach (var block in sweep)
            {
                for (var page = 0L; page < block.PageCount; page++)
                {
                    _ = FaultingMemory.ReadUInt64(block.BaseAddress + ((ulong)page * (ulong)block.PageSize));
                }
            }
        })
        { IsBackground = true, Name = "vmm vcpu" };
        _thread.Start();
    }

    public void Join() => _thread?.Join();
}
