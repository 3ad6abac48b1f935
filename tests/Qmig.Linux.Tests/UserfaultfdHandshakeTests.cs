namespace Qmig.Linux.Tests;

/// <summary>
/// Opening and negotiating. These run for real: if the kernel refuses a userfaultfd, Open throws
/// UserfaultfdUnavailableException and the test fails with the kernel's reason and the fix.
/// </summary>
public class UserfaultfdHandshakeTests
{
    [Fact]
    public void ProbeReportsWhatTheKernelOffers()
    {
        UserfaultfdCapabilities capabilities = Userfaultfd.Probe();
        Assert.True((capabilities.Ioctls & (UffdIoctls.Api | UffdIoctls.Register | UffdIoctls.Unregister)) == (UffdIoctls.Api | UffdIoctls.Register | UffdIoctls.Unregister), capabilities.ToString());
        // Missing-mode postcopy on private anonymous memory needs no feature bit, but every kernel new enough
        // for the rest of this runtime (5.x+) offers THREAD_ID and the non-cooperative events.
        Assert.True(capabilities.Features.HasFlag(UffdFeatures.ThreadId), capabilities.ToString());
    }

    [Theory]
    [InlineData(UserfaultfdOpenMethod.Syscall)]
    [InlineData(UserfaultfdOpenMethod.Device)]
    public void BothOpenMethodsNegotiateRequiredAndOptionalFeatures(UserfaultfdOpenMethod method)
    {
        using Userfaultfd uffd = Userfaultfd.Open(new UserfaultfdOptions
        {
            OpenMethod = method,
            RequiredFeatures = UffdFeatures.ThreadId,
            OptionalFeatures = UffdFeatures.EventRemove | UffdFeatures.ExactAddress,
        });
        Assert.Equal(method, uffd.OpenedVia);
        Assert.True(uffd.Features.HasFlag(UffdFeatures.ThreadId));
        Assert.Equal(uffd.KernelFeatures.HasFlag(UffdFeatures.EventRemove), uffd.Features.HasFlag(UffdFeatures.EventRemove));
        Assert.Equal(UffdFeatures.None, uffd.Features & ~uffd.KernelFeatures);
        Assert.False(uffd.Handle.IsInvalid);
    }

    [Fact]
    public void OpeningWithoutFeaturesNeedsNoProbe()
    {
        using Userfaultfd uffd = Userfaultfd.Open(new UserfaultfdOptions { OptionalFeatures = UffdFeatures.None });
        Assert.Equal(UffdFeatures.None, uffd.Features);
    }

    [Fact]
    public void ARequiredFeatureTheKernelLacksIsRefusedByName()
    {
        // Bit 63 is not a feature any kernel defines, so it can never be offered.
        var bogus = (UffdFeatures)(1UL << 63);
        var error = Assert.Throws<UserfaultfdUnavailableException>(() => Userfaultfd.Open(new UserfaultfdOptions { RequiredFeatures = bogus }));
        Assert.Contains("does not offer", error.Message);
    }

    [Fact]
    public void RegisterReturnsTheRangeIoctls()
    {
        using Userfaultfd uffd = Userfaultfd.Open();
        using var mapping = new Mapping(4);
        UffdIoctls ioctls = uffd.Register(mapping.Address, mapping.Length, UffdRegisterMode.Missing);
        Assert.True(ioctls.HasFlag(UffdIoctls.Copy) && ioctls.HasFlag(UffdIoctls.ZeroPage) && ioctls.HasFlag(UffdIoctls.Wake), ioctls.ToString());
        uffd.Unregister(mapping.Address, mapping.Length);
    }

    [Fact]
    public void RequestOnAnUnregisteredRangeFailsWithTheKernelsReason()
    {
        using Userfaultfd uffd = Userfaultfd.Open();
        using var mapping = new Mapping(1);
        byte[] page = Patterns.Page(0);
        var error = Assert.Throws<UserfaultfdException>(() => uffd.Copy(mapping.Address, page));
        Assert.Equal("UFFDIO_COPY", error.Operation);
        Assert.Contains("not registered", error.Message);
    }
}
