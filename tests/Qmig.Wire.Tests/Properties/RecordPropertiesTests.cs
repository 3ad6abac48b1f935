using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace Qmig.Wire.Tests.Properties;

/// <summary>
/// FsCheck properties of every generated record type (one test per type and property, the types
/// from <see cref="WireCases"/>), over valid values made by per-type generators and written by the
/// generated writers. The number of cases of each property is its <c>MaxTest</c> constant.
/// </summary>
public sealed class RecordPropertiesTests
{
    /// <summary>Cases of property (a), write then read.</summary>
    public const int WriteThenReadCases = 1000;

    /// <summary>Cases of property (b); each case is read once per cut position, so this stays lower.</summary>
    public const int EveryCutCases = 200;

    /// <summary>Cases of property (c); each case is read once per prefix length.</summary>
    public const int PrefixCases = 300;

    /// <summary>Cases of the arbitrary-input property.</summary>
    public const int AnyInputCases = 2000;

    /// <summary>
    /// (a) What the writer writes reads back as the same record (ContentEquals with the record the
    /// values describe), consuming exactly the written bytes (also when more bytes follow), and
    /// the record writes back to the same bytes. The writer's GetSize, TryWrite and
    /// Write(IBufferWriter) agree. And ContentEquals is not blind: the records of two values are
    /// equal exactly when their bytes are.
    /// </summary>
    [Theory]
    [MemberData(nameof(WireCases.TypeNames), MemberType = typeof(WireCases))]
    public void WriteThenReadGivesTheSameRecord(string type)
    {
        var gen =
            from c in WireCases.For(type)
            from tail in WireGen.BytesOf(1, 16)
            from other in WireCases.For(type)
            select (Case: c, Tail: tail, Other: other);
        Run(WriteThenReadCases, gen, t =>
        {
            var encoded = t.Case.Encode();
            t.Case.AssertReadsBack(encoded, t.Tail.Value);
            // Only a value with the same parameters is read with them (the other value's own parameters may differ).
            if (SameParameters(t.Case, t.Other))
            {
                t.Case.AssertEqualExactlyWhenBytesAre(encoded, t.Other.Encode());
            }
        });
    }

    /// <summary>
    /// (b) The same bytes as a two-segment sequence cut at every position (including the empty
    /// first and last segments a pipe can hand over), and as one-byte segments, read as the same
    /// record with the same length.
    /// </summary>
    [Theory]
    [MemberData(nameof(WireCases.TypeNames), MemberType = typeof(WireCases))]
    public void EveryCutIntoSegmentsReadsTheSame(string type)
    {
        Run(EveryCutCases, WireCases.For(type), c =>
        {
            var bytes = c.Encode();
            for (var cut = 0; cut <= bytes.Length; cut++)
            {
                c.AssertSequenceReadsSame(bytes, Segments.Cut(bytes, cut));
            }

            c.AssertSequenceReadsSame(bytes, Segments.OneBytePerSegment(bytes));
        });
    }

    /// <summary>
    /// (c) Every strict prefix of a record is NeedMoreData (never InvalidData, never an exception),
    /// from a span and from a sequence (cut in its middle and in one-byte segments).
    /// For a <c>-qmig-sized</c> type (postcopy_ram_discard) this cannot hold: its standalone reader
    /// takes the end of its input as the end of the record (its ranges are <c>repeat: eos</c>), so
    /// a prefix that ends after the header is itself a record: a valid one with fewer ranges
    /// (Done, consuming the whole prefix) when it ends between two ranges, or one whose last range
    /// is cut off (InvalidData). Only a prefix that ends inside the header must be NeedMoreData.
    /// That reader is only ever given an exact-size slice (the command's payload, whose length
    /// makes the command itself NeedMoreData, as the Command cases check).
    /// </summary>
    [Theory]
    [MemberData(nameof(WireCases.TypeNames), MemberType = typeof(WireCases))]
    public void EveryStrictPrefixNeedsMoreData(string type)
    {
        Run(PrefixCases, WireCases.For(type), c =>
        {
            var bytes = c.Encode();
            var oneByteSegments = Segments.OneBytePerSegment(bytes);
            for (var length = 0; length < bytes.Length; length++)
            {
                var prefix = bytes.AsSpan(0, length);
                var spanStatus = c.Read(prefix, out var consumed, out var error);
                var cutStatus = c.Read(Segments.Cut(bytes.AsMemory(0, length), length / 2), out var cutConsumed, out _);
                var oneByteStatus = c.Read(oneByteSegments.Slice(0, length), out _, out _);
                Assert.True(spanStatus == cutStatus && spanStatus == oneByteStatus, $"Prefix of {length} bytes: span {spanStatus}, cut sequence {cutStatus}, one-byte segments {oneByteStatus}");
                if (!c.IsSized || length < c.SizedHeadLength)
                {
                    Assert.True(spanStatus == OperationStatus.NeedMoreData, $"Prefix of {length} of {bytes.Length} bytes gave {spanStatus} ({error}): {Convert.ToHexString(prefix)}");
                }
                else
                {
                    Assert.True(spanStatus is OperationStatus.Done or OperationStatus.InvalidData, $"Prefix of {length} bytes of a sized record gave {spanStatus}");
                    if (spanStatus == OperationStatus.Done)
                    {
                        Assert.Equal(length, consumed);
                        Assert.Equal(length, cutConsumed);
                    }
                }
            }
        });
    }

    /// <summary>
    /// Arbitrary input never makes a reader throw: random bytes, and valid records with a byte
    /// changed, cut short or followed by more. Each reader returns Done, NeedMoreData or
    /// InvalidData (with a WireError inside the input); both shapes agree on status, length and
    /// content; and an accepted record writes back to exactly the bytes it was read from.
    /// </summary>
    [Theory]
    [MemberData(nameof(WireCases.TypeNames), MemberType = typeof(WireCases))]
    public void AnyInputGivesAStatusNeverAnException(string type)
    {
        var cases = WireCases.For(type);
        var inputs =
            from c in cases
            from input in Gen.Frequency(
                (1, WireGen.BytesOf(0, 64).Select(b => b.Value)),
                (3, Mutated(c.EncodeForPayload())))
            from cut in Gen.Choose(0, input.Length)
            from oneByte in WireGen.Bool
            select (Case: c, Input: new Bytes(input), Cut: cut, OneByte: oneByte);
        Run(AnyInputCases, inputs, t =>
        {
            var sequence = t.OneByte ? Segments.OneBytePerSegment(t.Input.Value) : Segments.Cut(t.Input.Value, t.Cut);
            t.Case.AssertAnyInputIsHandled(t.Input.Value, sequence);
        });
    }

    /// <summary>Whether two cases read with the same type parameters (a record's params are not in its bytes).</summary>
    private static bool SameParameters(WireCase a, WireCase b) => (a, b) switch
    {
        (Cases.RamRecordCase x, Cases.RamRecordCase y) => x.TargetPageSize == y.TargetPageSize,
        (Cases.RamBlockEntryCase x, Cases.RamBlockEntryCase y) => x.HasPageSize == y.HasPageSize && x.HasMrAddr == y.HasMrAddr,
        (Cases.PostcopyAdviseCase x, Cases.PostcopyAdviseCase y) => x.LenPayload == y.LenPayload,
        _ => true,
    };

    /// <summary>A valid encoding with one byte set to a random value, cut at a random length, or followed by random bytes.</summary>
    private static Gen<byte[]> Mutated(byte[] valid) =>
        Gen.Choose(0, 2).SelectMany(kind => kind switch
        {
            0 when valid.Length > 0 => Gen.Zip(Gen.Choose(0, valid.Length - 1), WireGen.U8).Select(t =>
            {
                var copy = (byte[])valid.Clone();
                copy[t.Item1] = t.Item2;
                return copy;
            }),
            1 => Gen.Choose(0, valid.Length).Select(n => valid.AsSpan(0, n).ToArray()),
            _ => WireGen.BytesOf(1, 16).Select(tail => valid.Concat(tail.Value).ToArray()),
        });

    private static void Run<T>(int maxTest, Gen<T> gen, Action<T> property) =>
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(maxTest).WithQuietOnSuccess(true), Prop.ForAll(Arb.From(gen), property));
}
