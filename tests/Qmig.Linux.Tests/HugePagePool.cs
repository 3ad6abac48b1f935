namespace Qmig.Linux.Tests;

/// <summary>
/// Makes sure the kernel's pool of 2 MiB huge pages has enough free pages for a test, raising
/// /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages when it must (as root, as the tests run
/// in CI). Grown pools are left as they are: shrinking them under another test would pull pages
/// from under it. A pool that cannot grow fails the test with the kernel's numbers. Linked into
/// every test project that needs huge pages, hence no xunit here.
/// </summary>
internal static class HugePagePool
{
    private const string Pool = "/sys/kernel/mm/hugepages/hugepages-2048kB";
    private static readonly Lock Gate = new();

    public static void Ensure(int freePages)
    {
        lock (Gate)
        {
            if (!Directory.Exists(Pool))
            {
                throw new InvalidOperationException($"{Pool} does not exist: this kernel has no 2 MiB huge pages");
            }

            var free = Read("free_hugepages");
            if (free >= freePages)
            {
                return;
            }

            var total = Read("nr_hugepages");
            try
            {
                File.WriteAllText(Path.Combine(Pool, "nr_hugepages"), (total + freePages - free).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            catch (UnauthorizedAccessException e)
            {
                throw new InvalidOperationException($"the test needs {freePages} free 2 MiB huge pages and only {free} are free; raising {Pool}/nr_hugepages needs root: {e.Message}", e);
            }

            var nowFree = Read("free_hugepages");
            if (nowFree < freePages)
            {
                throw new InvalidOperationException($"the test needs {freePages} free 2 MiB huge pages; the kernel gave {nowFree} (memory too fragmented?)");
            }
        }
    }

    private static int Read(string name) => int.Parse(File.ReadAllText(Path.Combine(Pool, name)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
}
