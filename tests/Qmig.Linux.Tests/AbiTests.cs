using System.Runtime.CompilerServices;
using Qmig.Linux.Interop;

namespace Qmig.Linux.Tests;

/// <summary>The derived request numbers and struct sizes must equal what linux/userfaultfd.h gives on x86_64.</summary>
public class AbiTests
{
    [Fact]
    public void RequestNumbersMatchTheKernelHeader()
    {
        // Values as printed by a C program including linux/userfaultfd.h (toolchain notes §9 and the header).
        Assert.Equal((nuint)0xC018AA3F, UffdAbi.UFFDIO_API);
        Assert.Equal((nuint)0xC020AA00, UffdAbi.UFFDIO_REGISTER);
        Assert.Equal((nuint)0x8010AA01, UffdAbi.UFFDIO_UNREGISTER);
        Assert.Equal((nuint)0x8010AA02, UffdAbi.UFFDIO_WAKE);
        Assert.Equal((nuint)0xC028AA03, UffdAbi.UFFDIO_COPY);
        Assert.Equal((nuint)0xC020AA04, UffdAbi.UFFDIO_ZEROPAGE);
        Assert.Equal((nuint)0xC018AA06, UffdAbi.UFFDIO_WRITEPROTECT);
        Assert.Equal((nuint)0xC020AA07, UffdAbi.UFFDIO_CONTINUE);
        Assert.Equal((nuint)0xAA00, UffdAbi.USERFAULTFD_IOC_NEW);
    }

    [Fact]
    public void StructSizesMatchTheKernelHeader()
    {
        Assert.Equal(24, Unsafe.SizeOf<UffdioApi>());
        Assert.Equal(16, Unsafe.SizeOf<UffdioRange>());
        Assert.Equal(32, Unsafe.SizeOf<UffdioRegister>());
        Assert.Equal(40, Unsafe.SizeOf<UffdioCopy>());
        Assert.Equal(32, Unsafe.SizeOf<UffdioZeropage>());
        Assert.Equal(24, Unsafe.SizeOf<UffdioWriteprotect>());
        Assert.Equal(32, Unsafe.SizeOf<UffdioContinue>());
        Assert.Equal(32, Unsafe.SizeOf<UffdMsg>());
        Assert.Equal(8, Unsafe.SizeOf<PollFd>());
        Assert.Equal(56, Unsafe.SizeOf<MsgHdr>());
        Assert.Equal(16, Unsafe.SizeOf<GatherSegment>());
    }

    [Fact]
    public void IoctlHelperRejectsFieldsThatDoNotFit()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => IoctlNumber.ReadWrite(0xAA, 0x00, 1u << 14));
        Assert.Throws<ArgumentOutOfRangeException>(() => IoctlNumber.ReadWrite(0x1AA, 0x00, 8));
    }

    [Fact]
    public void RefusalMessagesSayWhatHappenedAndHowToFixIt()
    {
        string eperm = UserfaultfdDiagnostics.DescribeSyscallFailure(Errno.EPERM, userModeOnly: false);
        Assert.Contains("EPERM", eperm);
        Assert.Contains("vm.unprivileged_userfaultfd=", eperm);
        Assert.Contains("sysctl -w vm.unprivileged_userfaultfd=1", eperm);
        Assert.Contains("/dev/userfaultfd", eperm);

        string enosys = UserfaultfdDiagnostics.DescribeSyscallFailure(Errno.ENOSYS, userModeOnly: false);
        Assert.Contains("ENOSYS", enosys);
        Assert.Contains("CONFIG_USERFAULTFD", enosys);
        Assert.Contains("seccomp", enosys);

        Assert.Contains("6.1", UserfaultfdDiagnostics.DescribeDeviceFailure(Errno.ENOENT, "open"));
        Assert.Contains("permission", UserfaultfdDiagnostics.DescribeDeviceFailure(Errno.EACCES, "open"));
        Assert.Contains("CAP_SYS_PTRACE", UserfaultfdDiagnostics.DescribeApiFailure(Errno.EPERM, UffdFeatures.EventFork));
    }
}
