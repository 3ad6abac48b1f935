using Qmig.Cli.Tests.State;
using Qmig.TestSupport;
using Xunit;

namespace Qmig.Cli.Tests;

/// <summary>
/// The natively compiled qmig (PublishAot; what the speed comparison with analyze-migration.py
/// runs, since it starts in milliseconds instead of a JIT's hundred) must say exactly what the
/// managed qmig says: same output, same errors, same exit codes, same extracted files. test.sh
/// publishes it to artifacts/native before the tests run.
/// </summary>
public sealed class NativeQmigTests
{
    private static readonly string DataDirectory = Path.Combine(AppContext.BaseDirectory, "data");

    public static TheoryData<string> Streams()
    {
        var streams = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(DataDirectory, "*.mig", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            streams.Add(Path.GetRelativePath(DataDirectory, file));
        }

        return streams;
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void StatsAndCheckSayTheSameAsTheManagedQmig(string stream)
    {
        var native = NativeExecutable();
        var path = Path.Combine(DataDirectory, stream);
        // A preempt channel holds bare RAM records: it is read beside the main stream of its migration.
        string[] channel = Path.GetFileName(stream) == "postcopy-preempt.mig"
            ? ["--preempt-channel", "--blocks-from", Path.Combine(Path.GetDirectoryName(path)!, "postcopy-forward.mig")]
            : [];
        string[][] commands = [["stats", path, "--format", "json", .. channel], ["check", path, .. channel]];
        foreach (var args in commands)
        {
            var expected = QmigProcess.Run(args);
            Assert.True(expected.ExitCode == 0, $"managed qmig {string.Join(' ', args)}: exit {expected.ExitCode}: {expected.Error}");
            Assert.Equal(expected, QmigProcess.RunExecutable(native, args));
        }
    }

    /// <summary>Errors too: the same line, the same exit code.</summary>
    [Theory]
    [InlineData("pc-32m-postcopy-preempt/postcopy-preempt.mig", "QMIG1101")]
    [InlineData("pc-32m-postcopy/postcopy-return-path.bin", "QMIG1101")]
    public void AnInvalidStreamGetsTheSameErrorAsFromTheManagedQmig(string stream, string rule)
    {
        var native = NativeExecutable();
        var path = Path.Combine(DataDirectory, stream);
        var expected = QmigProcess.Run("check", path);
        Assert.Equal(1, expected.ExitCode);
        Assert.Contains($"{path}:0x0: error {rule}: ", expected.Error, StringComparison.Ordinal);
        Assert.Equal(expected, QmigProcess.RunExecutable(native, "check", path));
    }

    [Theory]
    [InlineData("pc-32m-paused/pc-32m-paused.mig")]
    [InlineData("pc-32m-postcopy/postcopy-return-path.bin")]
    public void DumpSaysTheSameAsTheManagedQmig(string stream)
    {
        var native = NativeExecutable();
        var path = Path.Combine(DataDirectory, stream);
        string[] args = stream.EndsWith(".bin", StringComparison.Ordinal) ? ["dump", path, "--return-path"] : ["dump", path, "--format", "jsonl"];
        var expected = QmigProcess.Run(args);
        Assert.Equal(0, expected.ExitCode);
        Assert.Equal(expected, QmigProcess.RunExecutable(native, args));
    }

    [Fact]
    public void ExtractWritesTheSameFilesAsTheManagedQmig()
    {
        var native = NativeExecutable();
        using var work = new TempDirectory();
        var stream = Fixtures.Stream("pc-32m-paused");
        Assert.Equal(0, QmigProcess.Run("extract", stream, "-o", work.Combine("managed")).ExitCode);
        Assert.Equal(0, QmigProcess.RunExecutable(native, "extract", stream, "-o", work.Combine("native")).ExitCode);
        var files = Directory.GetFiles(work.Combine("managed"), "*", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(work.Combine("managed"), file)).Order(StringComparer.Ordinal).ToArray();
        Assert.Contains(Path.Combine("ram", "pc.ram"), files);
        Assert.Equal(files, Directory.GetFiles(work.Combine("native"), "*", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(work.Combine("native"), file)).Order(StringComparer.Ordinal).ToArray());
        foreach (var file in files)
        {
            Assert.True(
                File.ReadAllBytes(work.Combine("managed", file)).AsSpan().SequenceEqual(File.ReadAllBytes(work.Combine("native", file))),
                $"{file} differs between the managed and the native qmig");
        }
    }

    /// <summary>The published executable, or a failure that says how to make it (never a skip).</summary>
    private static string NativeExecutable()
    {
        var native = Path.Combine(Repository.Root, "artifacts", "native", "qmig");
        var publish = "dotnet publish tools/Qmig.Cli -c Release -r linux-x64 -o artifacts/native (./test.sh does it)";
        Assert.True(File.Exists(native), $"no native qmig at {native}: {publish}");

        // An executable published from other sources than this build's would compare old code with
        // new. Both report the hash of the sources they were built from (the build id after '+'),
        // which neither a republish of the same code nor a rebuild changes.
        var managed = QmigProcess.Run("--version");
        var published = QmigProcess.RunExecutable(native, "--version");
        Assert.True(managed.ExitCode == 0 && managed.Output.Contains('+', StringComparison.Ordinal),
            $"qmig.dll --version: exit {managed.ExitCode}, '{managed.Output.Trim()}' {managed.Error}");
        Assert.True(published.ExitCode == 0, $"{native} --version: exit {published.ExitCode}, {published.Error}");
        Assert.True(managed.Output == published.Output,
            $"{native} was built from other sources (version {published.Output.Trim()}) than qmig.dll ({managed.Output.Trim()}): publish it again with {publish}");
        return native;
    }
}
