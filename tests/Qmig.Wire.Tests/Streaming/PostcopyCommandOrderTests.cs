using System.Buffers;
using Qmig.Wire.Streaming;
using Qmig.Wire.Writing;
using Xunit;

namespace Qmig.Wire.Tests.Streaming;

/// <summary>The reader applies postcopy commands through the generated postcopy machine, so illegal orders are errors that name both sides.</summary>
public class PostcopyCommandOrderTests
{
    private static MigrationStreamReader Read(Action<MigrationStreamWriter> commands)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new MigrationStreamWriter(output);
        writer.FileHeader();
        writer.Configuration("pc-i440fx-7.2");
        commands(writer);
        writer.EndOfSections();
        var reader = new MigrationStreamReader();
        var visitor = new RecordLogVisitor(new RecordLog());
        var sequence = new ReadOnlySequence<byte>(output.WrittenMemory);
        reader.Read(ref sequence, true, ref visitor);
        return reader;
    }

    [Fact]
    public void ListenBeforeAdviseIsAnErrorNamingTheCommandAndTheState()
    {
        var reader = Read(w => w.Command(MigCmd.PostcopyListen));
        Assert.NotNull(reader.Error);
        Assert.Equal(MigrationRules.CommandState, reader.Error!.Rule);
        Assert.Contains("MIG_CMD_POSTCOPY_LISTEN", reader.Error.Message);
        Assert.Contains("POSTCOPY_INCOMING_NONE", reader.Error.Message);
    }

    [Fact]
    public void RunBeforeListenAndASecondAdviseAreRefused()
    {
        var run = Read(w =>
        {
            w.PostcopyAdvise(4096, 4096);
            w.Command(MigCmd.PostcopyRun);
        });
        Assert.Equal(MigrationRules.CommandState, run.Error?.Rule);
        Assert.Contains("POSTCOPY_INCOMING_ADVISE", run.Error!.Message);

        var twice = Read(w =>
        {
            w.PostcopyAdvise(4096, 4096);
            w.PostcopyAdvise(4096, 4096);
        });
        Assert.Equal(MigrationRules.CommandState, twice.Error?.Rule);
    }

    [Fact]
    public void TheLegalOrderIsAccepted()
    {
        var reader = Read(w =>
        {
            w.Command(MigCmd.OpenReturnPath);
            w.Ping(1);
            w.PostcopyAdvise(4096, 4096);
            var package = new ArrayBufferWriter<byte>();
            var inner = new MigrationStreamWriter(package);
            inner.Command(MigCmd.PostcopyListen);
            inner.Ping(3);
            inner.Command(MigCmd.PostcopyRun);
            w.Packaged(package.WrittenSpan);
            w.Ping(4);
        });
        Assert.Null(reader.Error);
        Assert.True(reader.IsCompleted);
        Assert.Equal("POSTCOPY_INCOMING_RUNNING", reader.PostcopyState);
    }
}
