using Qmig.Linux.Interop;

namespace Qmig.Linux.Tests;

/// <summary>A private anonymous mapping owned by a test.</summary>
internal sealed unsafe class Mapping : IDisposable
{
    public Mapping(int pages)
    {
        Length = (ulong)pages * (ulong)PageSize;
        void* address = Libc.Mmap(null, (nuint)Length, LinuxConstants.PROT_READ | LinuxConstants.PROT_WRITE, LinuxConstants.MAP_PRIVATE | LinuxConstants.MAP_ANONYMOUS, -1, 0);
        Assert.True(address != Libc.MapFailed, "mmap failed");
        Address = (ulong)address;
    }

    public static int PageSize { get; } = Environment.SystemPageSize;

    public ulong Address { get; private set; }

    public ulong Length { get; }

    public ulong Page(int index) => Address + ((ulong)index * (ulong)PageSize);

    /// <summary>After mremap moved the pages, the old range is gone; track the new one so Dispose unmaps it.</summary>
    public void MovedTo(ulong address) => Address = address;

    public void Dispose()
    {
        if (Address != 0)
        {
            _ = Libc.Munmap((void*)Address, (nuint)Length);
            Address = 0;
        }
    }
}
