using Qmig.Wire.IO;
using Xunit;

namespace Qmig.Wire.Tests.IO;

public sealed unsafe class LargeZeroedMemoryTests
{
    /// <summary>Every size reads as zero and takes writes at both ends; from 2 MiB on it starts on a 2 MiB boundary, where a huge page can back it.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4096)]
    [InlineData((2 << 20) - 8)]
    [InlineData(2 << 20)]
    [InlineData((2 << 20) + 8)]
    [InlineData(5 << 20)]
    public void MemoryIsZeroedWritableAndLargeTablesAreHugePageAligned(int bytes)
    {
        var memory = (byte*)LargeZeroedMemory.Allocate((nuint)bytes);
        try
        {
            var span = new Span<byte>(memory, bytes);
            Assert.True(span.IndexOfAnyExcept((byte)0) < 0, "the memory is not zeroed");
            span[^1] = 0x5a;
            span[0] = 0xa5;
            Assert.Equal(bytes == 1 ? 0xa5 : 0x5a, span[^1]);
            Assert.Equal(0xa5, span[0]);
            if (bytes >= 2 << 20)
            {
                Assert.Equal(0UL, (ulong)memory % (2UL << 20));
            }
        }
        finally
        {
            LargeZeroedMemory.Free(memory, (nuint)bytes);
        }
    }
}
