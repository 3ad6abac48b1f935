namespace Qmig.Wire.Tests.Properties;

/// <summary>A record of integers only: a plain struct that is its own sequence shape.</summary>
public abstract record PlainRecordCase<T> : WireRecordCase<T, T>
    where T : struct, IWireRecord<T, T>
{
    protected sealed override bool SequencedEquals(T sequenced, T span) => sequenced.ContentEquals(span);
}
