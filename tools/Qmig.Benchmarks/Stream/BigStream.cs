using System.Diagnostics;

namespace Qmig.Benchmarks.Stream;

/// <summary>
/// The large RAM-heavy real stream the stream benchmarks read: <c>QMIG_BIG_STREAM</c> if set,
/// else <c>/tmp/qmig-big.mig</c>, made on first use by <c>make-big-stream.sh</c> (QEMU 7.2, 1 GiB
/// of random guest RAM; about 15 s). It is never kept in the repository.
/// </summary>
public static class BigStream
{
    public static string Path
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("QMIG_BIG_STREAM") is { Length: > 0 } given ? given : "/tmp/qmig-big.mig";
            if (File.Exists(path))
            {
                return path;
            }

            var script = FindScript();
            Console.Error.WriteLine($"// {path} is missing: making it with {script} (QEMU 7.2, 1 GiB of random guest RAM, about 15 s); set QMIG_BIG_STREAM to use another stream");
            using var process = Process.Start(new ProcessStartInfo("bash", [script, path]) { UseShellExecute = false })
                ?? throw new InvalidOperationException($"could not run {script}");
            process.WaitForExit();
            if (process.ExitCode != 0 || !File.Exists(path))
            {
                throw new InvalidOperationException($"{script} failed (exit {process.ExitCode}); it needs qemu-system-x86_64 (QEMU 7.2) and python3");
            }

            return path;
        }
    }

    /// <summary>The script sits in the source tree; BenchmarkDotNet runs us from a generated copy, so walk up from both.</summary>
    private static string FindScript()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = System.IO.Path.Combine(dir.FullName, "tools", "Qmig.Benchmarks", "Stream", "make-big-stream.sh");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new FileNotFoundException("tools/Qmig.Benchmarks/Stream/make-big-stream.sh not found above " + AppContext.BaseDirectory);
    }
}
