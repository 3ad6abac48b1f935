using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Qmig.Benchmarks.Linux;

/// <summary>
/// Compiles the embedded uffd_roundtrip.c with gcc into a shared library (once per process, in a temp
/// directory: never a committed binary) and exposes its entry points as unmanaged function pointers.
/// </summary>
internal static unsafe class NativeUffd
{
    private static readonly Lazy<nint> Library = new(Build);

    public static delegate* unmanaged<int, int, int, int, int> RoundTripSetup => (delegate* unmanaged<int, int, int, int, int>)Export("rt_setup");

    public static delegate* unmanaged<long> RoundTripTouch => (delegate* unmanaged<long>)Export("rt_touch");

    public static delegate* unmanaged<long*, long, long> RoundTripSamples => (delegate* unmanaged<long*, long, long>)Export("rt_samples");

    public static delegate* unmanaged<void> RoundTripTeardown => (delegate* unmanaged<void>)Export("rt_teardown");

    public static delegate* unmanaged<int, int> PlaceSetup => (delegate* unmanaged<int, int>)Export("place_setup");

    public static delegate* unmanaged<byte*> PlaceSource => (delegate* unmanaged<byte*>)Export("place_source");

    public static delegate* unmanaged<void> PlaceReset => (delegate* unmanaged<void>)Export("place_reset");

    public static delegate* unmanaged<int, int, int> PlaceAll => (delegate* unmanaged<int, int, int>)Export("place_all");

    public static delegate* unmanaged<void> PlaceTeardown => (delegate* unmanaged<void>)Export("place_teardown");

    private static nint Export(string name) => NativeLibrary.GetExport(Library.Value, name);

    private static nint Build()
    {
        string directory = Path.Combine(Path.GetTempPath(), "qmig-uffd-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(directory);
        string source = Path.Combine(directory, "uffd_roundtrip.c");
        string library = Path.Combine(directory, "libuffd_roundtrip.so");
        using (System.IO.Stream resource = Assembly.GetExecutingAssembly().GetManifestResourceStream("uffd_roundtrip.c")
            ?? throw new InvalidOperationException("uffd_roundtrip.c is not embedded"))
        using (FileStream file = File.Create(source))
        {
            resource.CopyTo(file);
        }

        var gcc = Process.Start(new ProcessStartInfo("gcc", ["-O2", "-Wall", "-shared", "-fPIC", "-pthread", "-o", library, source])
        {
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("could not start gcc");
        string errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        if (gcc.ExitCode != 0)
        {
            throw new InvalidOperationException("gcc failed to build the C round trip: " + errors);
        }

        return NativeLibrary.Load(library);
    }
}
