using Qmig.TestSupport;
using Qmig.Postcopy.Destination;
using Qmig.Postcopy.Source;

namespace Qmig.Postcopy.Tests.Source;

/// <summary>
/// The OUT.mig that <see cref="PostcopyDestination"/> writes after a migration (here the recorded
/// QEMU 7.2 postcopy migration of tests/data/pc-32m-postcopy, replayed over loopback) served as a
/// guest: its pages are what extract reads from OUT.mig and from the recording itself.
/// </summary>
public sealed class ReceivedStreamGuestTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-received-").FullName;

    [Fact]
    public void ReceivesOutMigIsServedAsTheGuestItReceived()
    {
        var recording = SavedStreamGuestTests.Data("pc-32m-postcopy/postcopy-forward.mig");
        var outMig = Path.Combine(_work, "out.mig");
        using (var destination = new PostcopyDestination(new DestinationOptions()))
        {
            var (_, error) = ReplayingSource.Play(destination, File.ReadAllBytes(recording));
            Assert.Null(error);
            using var file = File.Create(outMig);
            destination.WritePrecopyStream(file);
        }

        using var guest = SavedStreamGuest.Open(outMig);
        using (var reference = ReferenceReading.Of(outMig))
        {
            SavedStreamGuestTests.AssertSameGuest(guest, reference, outMig);
        }

        // The recording's own final RAM, as extract reads the recorded stream.
        using var recorded = ReferenceReading.Of(recording);
        Assert.Equal(recorded.Images.Select(i => i.Block.Name), guest.RamBlocks.Select(b => b.IdStr));
        var scratch = new byte[guest.TargetPageSize];
        var zero = new byte[guest.TargetPageSize];
        for (var b = 0; b < recorded.Images.Count; b++)
        {
            var image = recorded.Images[b].Image;
            for (long page = 0; page < image.Length / guest.TargetPageSize; page++)
            {
                var served = guest.ReadPage(b, page, scratch);
                Assert.True(image.AsSpan((int)(page * guest.TargetPageSize), guest.TargetPageSize).SequenceEqual(served.IsEmpty ? zero : served),
                    $"block {guest.RamBlocks[b].IdStr} page {page} is not the recorded migration's");
            }
        }
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
