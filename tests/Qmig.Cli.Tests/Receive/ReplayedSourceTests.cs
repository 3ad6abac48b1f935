using System.Net;
using System.Net.Sockets;
using Qmig.Postcopy.Destination;
using Xunit;

namespace Qmig.Cli.Tests.Receive;

/// <summary>
/// <see cref="PostcopyDestination"/> fed a recorded postcopy migration (tests/data/pc-32m-postcopy,
/// what a QEMU 7.2 source sent to a QEMU 7.2 destination) over loopback TCP: no QEMU needed, so
/// every detail is the same on every run. The replay ignores our page requests; the recording holds
/// every page anyway.
/// </summary>
public sealed class ReplayedSourceTests : IDisposable
{
    private const string Recording = "data/pc-32m-postcopy/postcopy-forward.mig";

    private readonly string _work = Directory.CreateTempSubdirectory("qmig-replay-").FullName;

    [Fact]
    public void TheRecordedMigrationGivesTheSameRamAsReadingTheRecording()
    {
        var recording = File.ReadAllBytes(Recording);
        var (returnPath, error) = Replay(recording, TouchWorkload.Sequential, out var destination, out var outMig);
        using (destination)
        {
            Assert.Null(error);
            Assert.Equal(PostcopyMachineEnd, destination.State.ToString());
            Assert.Equal(4, destination.Stats.Pongs);
            Assert.Equal(128, destination.Stats.Discarded);
        }

        // The return path: a PONG per PING, page requests from our touch threads, SHUT 0 last.
        var rpFile = Path.Combine(_work, "rp.bin");
        File.WriteAllBytes(rpFile, returnPath);
        var (_, dump, _) = QmigProcess.Run("dump", "--return-path", rpFile);
        Assert.Equal(4, dump.Split('\n').Count(line => line.Contains("PONG", StringComparison.Ordinal)));
        Assert.EndsWith("SHUT len=4 status=0", dump.TrimEnd());

        // Every RAM block as OUT.mig holds it equals the block as qmig extract reads the recording.
        var fromRecording = Extract(Recording, "recording");
        var fromOut = Extract(outMig!, "out");
        var blocks = Directory.GetFiles(fromRecording).Select(Path.GetFileName).Order().ToArray();
        Assert.NotEmpty(blocks);
        Assert.Equal(blocks, Directory.GetFiles(fromOut).Select(Path.GetFileName).Order().ToArray());
        foreach (var block in blocks)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(fromRecording, block!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(fromOut, block!))), $"RAM block {block} differs");
        }
    }

    [Fact]
    public void ASourceThatVanishesDuringPostcopyLosesTheGuestAndSaysSo()
    {
        var recording = File.ReadAllBytes(Recording);
        // Cut 64 KiB before the end: inside the postcopy pages, after POSTCOPY_RUN.
        var (_, error, destination) = ReplayCut(recording.AsSpan(0, recording.Length - 65536).ToArray());
        using (destination)
        {
            var lost = Assert.IsType<DestinationException>(error);
            Assert.Contains("POSTCOPY_INCOMING_RUNNING", lost.Message, StringComparison.Ordinal);
            Assert.Contains("the guest is lost", lost.Message, StringComparison.Ordinal);
            Assert.Throws<InvalidOperationException>(() => destination.WritePrecopyStream(Stream.Null));
        }
    }

    private const string PostcopyMachineEnd = "End";

    private (byte[] ReturnPath, Exception? Error) Replay(byte[] stream, TouchWorkload touch, out PostcopyDestination destination, out string? outMig)
    {
        destination = new PostcopyDestination(new DestinationOptions { Touch = touch });
        var (returnPath, error) = Run(destination, stream);
        outMig = null;
        if (error is null)
        {
            outMig = Path.Combine(_work, "out.mig");
            using var file = File.Create(outMig);
            destination.WritePrecopyStream(file);
        }

        return (returnPath, error);
    }

    private (byte[] ReturnPath, Exception? Error, PostcopyDestination Destination) ReplayCut(byte[] stream)
    {
        var destination = new PostcopyDestination(new DestinationOptions { Touch = TouchWorkload.Random });
        var (returnPath, error) = Run(destination, stream);
        return (returnPath, error, destination);
    }

    /// <summary>Plays <paramref name="stream"/> as the source, closes its side, and collects what came back.</summary>
    private static (byte[] ReturnPath, Exception? Error) Run(PostcopyDestination destination, byte[] stream)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var source = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        source.Connect(listener.LocalEndpoint);
        using var connection = listener.AcceptSocket();
        var returnPath = new MemoryStream();
        var sourceSide = Task.Run(() =>
        {
            var reading = Task.Run(() =>
            {
                var buffer = new byte[4096];
                int n;
                while ((n = source.Receive(buffer)) > 0)
                {
                    returnPath.Write(buffer, 0, n);
                }
            });
            for (var at = 0; at < stream.Length; at += 32 << 10)
            {
                source.Send(stream, at, Math.Min(32 << 10, stream.Length - at), SocketFlags.None);
            }

            source.Shutdown(SocketShutdown.Send);
            reading.Wait(TimeSpan.FromSeconds(30));
        });
        Exception? error = null;
        try
        {
            destination.Receive(connection);
        }
        catch (DestinationException e)
        {
            error = e;
        }

        connection.Shutdown(SocketShutdown.Both);
        Assert.True(sourceSide.Wait(TimeSpan.FromSeconds(30)), "the replaying source did not finish");
        return (returnPath.ToArray(), error);
    }

    private string Extract(string stream, string name)
    {
        var directory = Path.Combine(_work, name);
        var (exit, _, error) = QmigProcess.Run("extract", stream, "-o", directory);
        // Neither stream has a vmdesc: the RAM images are written and the exit code says state.json is missing.
        Assert.True(exit == 2, $"extract {stream}: {exit} {error}");
        return Path.Combine(directory, "ram");
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
