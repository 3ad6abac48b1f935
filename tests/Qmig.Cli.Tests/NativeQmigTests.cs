using Qmig.Cli.Tests.State;
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
        string[][] commands = [["stats", path, "--format", "json"], ["check", path]];
        foreach (var args in commands)
        {
            var expected = QmigProcess.Run(args);
            var actual = QmigProcess.RunExecutable(native, args);
            Assert.Equal(expected, actual);
        }
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
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Protocol.sln")))
        {
            root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar))
                ?? throw new InvalidOperationException($"no Protocol.sln above {AppContext.BaseDirectory}");
        }

        var native = Path.Combine(root, "artifacts", "native", "qmig");
        var publish = "dotnet publish tools/Qmig.Cli -c Release -r linux-x64 -o artifacts/native (./test.sh does it)";
        Assert.True(File.Exists(native), $"no native qmig at {native}: {publish}");

        // An executable published before the last build would compare old code with new.
        var managed = Path.Combine(AppContext.BaseDirectory, "qmig.dll");
        Assert.True(
            File.GetLastWriteTimeUtc(native) >= File.GetLastWriteTimeUtc(managed),
            $"{native} is older than {managed}: publish it again with {publish}");
        return native;
    }
}
