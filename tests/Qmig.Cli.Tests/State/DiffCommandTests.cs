using System.Text.Json;
using Qmig.Cli.Commands;
using Qmig.Cli.Diff;
using Xunit;

namespace Qmig.Cli.Tests.State;

/// <summary><c>qmig diff</c>: a stream against itself, and against a copy with one device byte and one RAM page changed.</summary>
public class DiffCommandTests
{
    [Fact]
    public void A_stream_equals_itself()
    {
        var output = new StringWriter();
        var code = DiffCommand.Run(new DiffOptions(Fixtures.Stream("q35-devices"), Fixtures.Stream("q35-devices"), Json: false), output, new StringWriter());

        Assert.Equal(0, code);
        Assert.EndsWith(": equal", output.ToString().TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_stream_equals_itself_in_json_too()
    {
        var output = new StringWriter();
        var code = Program.Run(["diff", Fixtures.Stream("pc-32m-paused"), Fixtures.Stream("pc-32m-paused"), "--format", "json"], output, new StringWriter());

        Assert.Equal(0, code);
        using var report = JsonDocument.Parse(output.ToString());
        Assert.True(report.RootElement.GetProperty("equal").GetBoolean());
        Assert.Equal(0, report.RootElement.GetProperty("devices").GetArrayLength());
        Assert.Equal(0, report.RootElement.GetProperty("ram").GetArrayLength());
    }

    [Fact]
    public void One_changed_device_byte_and_one_changed_page_are_exactly_what_is_reported()
    {
        using var temp = new TempDirectory();
        var original = Fixtures.Stream("pc-64m-running");
        var catalog = StreamCatalog.Read(original);
        var bytes = File.ReadAllBytes(original);

        // The timer's first field is cpu_ticks_offset (int64): change its last byte.
        var timer = catalog.Bodies.Single(b => b.Section.Idstr == "timer");
        bytes[timer.Offset + 7] ^= 0x01;

        // A page sent only once (a later iteration would overwrite the change), away from the start of its block.
        var page = catalog.Pages
            .GroupBy(p => (p.Block, p.PageOffset))
            .Where(g => g.Count() == 1 && g.Key.PageOffset > 0)
            .Select(g => g.Single())
            .First();
        bytes[page.DataOffset + 100] ^= 0xff;
        var changed = temp.Combine("changed.mig");
        File.WriteAllBytes(changed, bytes);

        var output = new StringWriter();
        var code = DiffCommand.Run(new DiffOptions(original, changed, Json: true), output, new StringWriter());

        Assert.Equal(1, code);
        using var report = JsonDocument.Parse(output.ToString());
        var device = Assert.Single(report.RootElement.GetProperty("devices").EnumerateArray());
        Assert.Equal("timer", device.GetProperty("idstr").GetString());
        Assert.Equal("differs", device.GetProperty("status").GetString());
        var field = Assert.Single(device.GetProperty("fields").EnumerateArray());
        Assert.Equal("cpu_ticks_offset", field.GetProperty("path").GetString());
        Assert.NotEqual(field.GetProperty("a").GetString(), field.GetProperty("b").GetString());

        var ram = Assert.Single(report.RootElement.GetProperty("ram").EnumerateArray());
        Assert.Equal(page.Block, ram.GetProperty("block").GetString());
        Assert.Equal(1, ram.GetProperty("pages").GetInt64());
        var range = Assert.Single(ram.GetProperty("ranges").EnumerateArray());
        Assert.Equal(page.PageOffset, range.GetProperty("offset").GetUInt64());
        Assert.Equal(4096, range.GetProperty("length").GetInt64());

        var text = new StringWriter();
        Assert.Equal(1, DiffCommand.Run(new DiffOptions(original, changed, Json: false), text, new StringWriter()));
        Assert.Contains("device timer (instance 0): 1 field differs", text.ToString(), StringComparison.Ordinal);
        Assert.Contains($"ram {page.Block}: 1 page differs", text.ToString(), StringComparison.Ordinal);
        Assert.Contains($"0x{page.PageOffset:x16}-0x{page.PageOffset + 4095:x16}", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Devices_and_blocks_present_on_one_side_only_are_listed()
    {
        var output = new StringWriter();
        var code = DiffCommand.Run(new DiffOptions(Fixtures.Stream("pc-32m-paused"), Fixtures.Stream("pc-64m-running"), Json: true), output, new StringWriter());

        Assert.Equal(1, code);
        using var report = JsonDocument.Parse(output.ToString());
        Assert.Contains(report.RootElement.GetProperty("devices").EnumerateArray(),
            d => d.GetProperty("idstr").GetString() == "0000:00:03.0/e1000" && d.GetProperty("status").GetString() == "only_in_b");
        Assert.Contains(report.RootElement.GetProperty("ram").EnumerateArray(),
            r => r.GetProperty("block").GetString() == "0000:00:03.0/e1000.rom" && r.GetProperty("status").GetString() == "only_in_b");
        Assert.Contains(report.RootElement.GetProperty("ram").EnumerateArray(),
            r => r.GetProperty("block").GetString() == "pc.ram" && r.GetProperty("length_a").GetUInt64() == 32 << 20 && r.GetProperty("length_b").GetUInt64() == 64 << 20);

        var text = new StringWriter();
        Assert.Equal(1, DiffCommand.Run(new DiffOptions(Fixtures.Stream("pc-32m-paused"), Fixtures.Stream("pc-64m-running"), Json: false), text, new StringWriter()));
        var lines = text.ToString().Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains("device 0000:00:03.0/e1000 (instance 0): only in B", lines);
        Assert.Contains("ram 0000:00:03.0/e1000.rom: only in B", lines);
        Assert.DoesNotContain(lines, line => line.EndsWith("only in A", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_vmdescs_devices_are_compared_as_raw_bodies()
    {
        using var temp = new TempDirectory();
        var (stream, _) = ExtractConformanceTests.SplitOffVmdesc(temp, "pc-64m-running");
        var bytes = File.ReadAllBytes(stream);
        var timer = StreamCatalog.Read(Fixtures.Stream("pc-64m-running")).Bodies.Single(b => b.Section.Idstr == "timer");
        bytes[timer.Offset + 7] ^= 0x01;
        var changed = temp.Combine("changed.mig");
        File.WriteAllBytes(changed, bytes);
        var output = new StringWriter();

        var code = DiffCommand.Run(new DiffOptions(stream, changed, Json: true), output, new StringWriter());

        Assert.Equal(1, code);
        using var report = JsonDocument.Parse(output.ToString());
        var device = Assert.Single(report.RootElement.GetProperty("devices").EnumerateArray());
        Assert.Equal(7, device.GetProperty("body").GetProperty("first_offset").GetInt64());
        Assert.Equal(1, device.GetProperty("body").GetProperty("differing_bytes").GetInt64());
        Assert.Equal(0, report.RootElement.GetProperty("ram").GetArrayLength());
    }

    [Fact]
    public void A_missing_file_is_exit_code_2()
    {
        var errors = new StringWriter();
        var code = Program.Run(["diff", Fixtures.Stream("q35-devices"), "/nonexistent/x.mig"], new StringWriter(), errors);

        Assert.Equal(2, code);
    }

    [Fact]
    public void A_truncated_stream_cannot_be_compared_and_is_exit_code_2()
    {
        using var temp = new TempDirectory();
        var cut = temp.Combine("cut.mig");
        File.WriteAllBytes(cut, File.ReadAllBytes(Fixtures.Stream("pc-32m-paused"))[..100_000]);

        var code = DiffCommand.Run(new DiffOptions(Fixtures.Stream("pc-32m-paused"), cut, Json: false), new StringWriter(), new StringWriter());

        Assert.Equal(2, code);
    }
}
