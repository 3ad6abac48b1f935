using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Qmig.Cli.Tests.State;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Cli.Tests.Damage;

/// <summary>
/// qmig's promise for damaged input, checked on the bundled real streams: whatever the damage
/// (bit flips, overwritten lengths, truncation, inserted or deleted bytes), <c>stats --format
/// json</c> and <c>check</c> exit 0 (the stream is still valid), 1 with <c>FILE:0xOFFSET: error
/// QMIGnnnn</c>, or 3 (a valid stream using a feature not supported yet) with the same; never 2
/// (a usage error) and never a bare message. Each case is a seed; failures list theirs.
/// </summary>
public sealed partial class DamagedStreamProperty(ITestOutputHelper log)
{
    private const int Cases = 500;

    private static readonly Lazy<(string Name, byte[] Bytes)[]> Streams = new(() => BundledStreams.MainStreams
        .Select(path => (BundledStreams.Name(path), File.ReadAllBytes(path)))
        .ToArray());

    [Fact]
    public void FiveHundredSeededMutationsOfTheBundledStreamsEndWithAnOffsetAndARule()
    {
        Assert.True(Streams.Value.Length >= 10, $"only {Streams.Value.Length} bundled streams");
        using var temp = new TempDirectory();
        var failures = new List<string>();
        var outcomes = new SortedDictionary<int, int>();
        for (var seed = 0; seed < Cases; seed++)
        {
            var random = new Random(seed);
            var (name, original) = Streams.Value[random.Next(Streams.Value.Length)];
            var damage = new List<string>();
            var bytes = original;
            for (var count = 1 + random.Next(2); count > 0; count--)
            {
                bytes = Mutate(random, bytes, damage);
            }

            var path = temp.Combine($"seed-{seed}.mig");
            File.WriteAllBytes(path, bytes);
            string[][] commands = [["stats", path, "--format", "json"], ["check", path]];
            foreach (var args in commands)
            {
                var (code, _, error) = QmigInProcess.Run(args);
                outcomes[code] = outcomes.GetValueOrDefault(code) + 1;
                var located = code == 0 || ErrorLine().Match(error) is { Success: true } match && match.Groups["file"].Value == path;
                if (code is not (0 or 1 or 3) || !located)
                {
                    failures.Add($"seed {seed}: {args[0]} {name} after {string.Join(", ", damage)}: exit {code}: {error.Trim()}");
                }
            }

            File.Delete(path);
        }

        log.WriteLine($"{2 * Cases} runs; by exit code: {string.Join(", ", outcomes.Select(o => $"{o.Key}: {o.Value}"))}");
        Assert.True(failures.Count == 0,
            $"{failures.Count} of {2 * Cases} runs broke the promise (outcomes by exit code: {string.Join(", ", outcomes.Select(o => $"{o.Key}: {o.Value}"))}):\n" +
            string.Join("\n", failures));
        // The property must reach the error paths, not only damage RAM pages that still read.
        Assert.True(outcomes.GetValueOrDefault(1) > Cases / 2, $"only {outcomes.GetValueOrDefault(1)} runs found the damage");
    }

    /// <summary>
    /// One damage. Half of them land in the first or last 64 KiB, where the header, the
    /// configuration, the block list, the device sections and the vmdesc are; the rest anywhere
    /// (mostly page data, which a bit flip leaves valid).
    /// </summary>
    private static byte[] Mutate(Random random, byte[] input, List<string> damage)
    {
        if (input.Length == 0)
        {
            damage.Add("nothing (empty)");
            return input;
        }

        var at = random.Next(4) switch
        {
            0 => random.Next(Math.Min(input.Length, 64 << 10)),
            1 => Math.Max(0, input.Length - 1 - random.Next(Math.Min(input.Length, 64 << 10))),
            _ => random.Next(input.Length),
        };
        var output = input.ToArray();
        switch (random.Next(5))
        {
            case 0:
                var bit = random.Next(8);
                output[at] ^= (byte)(1 << bit);
                damage.Add($"bit {bit} flipped at 0x{at:x}");
                return output;
            case 1:
                // A length field's worth of bytes: all ones, zero, a small or a random value, as u8/u16/u32/u64.
                var width = 1 << random.Next(4);
                var value = random.Next(4) switch { 0 => ulong.MaxValue, 1 => 0UL, 2 => (ulong)random.Next(1, 4096), _ => (ulong)random.NextInt64() };
                Span<byte> big = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64BigEndian(big, value);
                big[(8 - width)..].Slice(0, Math.Min(width, input.Length - at)).CopyTo(output.AsSpan(at));
                damage.Add($"{width} bytes overwritten with 0x{value:x} at 0x{at:x}");
                return output;
            case 2:
                damage.Add($"truncated at 0x{at:x}");
                return input.AsSpan(0, at).ToArray();
            case 3:
                var inserted = new byte[1 + random.Next(16)];
                random.NextBytes(inserted);
                damage.Add($"{Convert.ToHexString(inserted)} inserted at 0x{at:x}");
                return [.. input.AsSpan(0, at), .. inserted, .. input.AsSpan(at)];
            default:
                var deleted = Math.Min(1 + random.Next(16), input.Length - at);
                damage.Add($"{deleted} bytes deleted at 0x{at:x}");
                return [.. input.AsSpan(0, at), .. input.AsSpan(at + deleted)];
        }
    }

    [GeneratedRegex(@"^(?<file>.+):0x[0-9a-f]+: error QMIG\d{4}: ", RegexOptions.Multiline)]
    private static partial Regex ErrorLine();
}
