using Xunit;

namespace Qmig.Cli.Tests;

/// <summary>The text tree of <c>qmig dump</c> shows values, never .NET type names.</summary>
public class DumpTextTests
{
    private static readonly string Data = Path.Combine(AppContext.BaseDirectory, "data");

    [Fact]
    public void ADiscardShowsItsRanges()
    {
        var (code, output, error) = QmigProcess.Run("dump", Path.Combine(Data, "pc-32m-postcopy", "postcopy-forward.mig"));
        Assert.True(code == 0, error);
        var discard = Assert.Single(output.Split('\n'), line => line.Contains("POSTCOPY_RAM_DISCARD", StringComparison.Ordinal));
        Assert.EndsWith("block=\"pc.ram\" ranges=[{start=0x10000 length=0x80000}]", discard.TrimEnd());
    }

    [Theory]
    [MemberData(nameof(NativeQmigTests.Streams), MemberType = typeof(NativeQmigTests))]
    public void NoRecordOfARealStreamPrintsATypeName(string stream)
    {
        var path = Path.Combine(Data, stream);
        // A postcopy-preempt channel names blocks only its main stream announces.
        string[] args = Path.GetFileName(stream) == "postcopy-preempt.mig"
            ? ["dump", path, "--preempt-channel", "--blocks-from", Path.Combine(Path.GetDirectoryName(path)!, "postcopy-forward.mig")]
            : ["dump", path];
        var (code, output, error) = QmigProcess.Run(args);
        Assert.True(code == 0, $"dump {stream}: {code} {error}");
        var leaked = output.Split('\n').FirstOrDefault(line => line.Contains("System.", StringComparison.Ordinal) || line.Contains("`", StringComparison.Ordinal));
        Assert.True(leaked is null, $"a type name in the dump of {stream}: {leaked}");
    }
}
