using System.Reflection;
using Xunit;

namespace Qmig.Wire.Tests.Properties;

/// <summary>
/// The properties cover every record type: the types the generator emitted (every public type of
/// the Qmig.Wire assembly with a static TryRead, which includes every IWireRecord), the types the
/// spec files declare, and the types <see cref="WireCases"/> has a generator for are the same set.
/// A new spec type without a generator fails here.
/// </summary>
public sealed class CoverageTests
{
    [Fact]
    public void EveryGeneratedRecordTypeHasAGenerator()
    {
        var generated = GeneratedRecordTypes().Select(t => t.Name).ToHashSet();
        var covered = WireCases.ByType.Keys.Select(t => t.Name).ToHashSet();
        Assert.True(generated.Count > 0, "No record types found in the Qmig.Wire assembly");
        var missing = generated.Except(covered).Order(StringComparer.Ordinal).ToList();
        var stale = covered.Except(generated).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "Record types without a property generator in WireCases: " + string.Join(", ", missing));
        Assert.True(stale.Count == 0, "WireCases names types that are not generated record types: " + string.Join(", ", stale));
    }

    [Fact]
    public void EverySpecTypeIsAGeneratedRecordType()
    {
        var generated = GeneratedRecordTypes().Select(t => t.Name).ToHashSet();
        var declared = Kaitai.SpecTypes.All.Select(t => t.ClrName).ToHashSet();
        Assert.NotEmpty(declared);
        Assert.Equal(declared.Order(StringComparer.Ordinal), generated.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TypesWithoutParametersAreWireRecords()
    {
        // The generic properties and tools rely on IWireRecord; only types with params may lack it.
        var withParams = new[] { typeof(RamRecord), typeof(RamBlockEntry), typeof(PostcopyAdvise) };
        foreach (var type in GeneratedRecordTypes().Except(withParams))
        {
            Assert.True(ImplementsWireRecord(type), $"{type.Name} has no parameters but does not implement IWireRecord");
        }
    }

    private static IEnumerable<Type> GeneratedRecordTypes() =>
        typeof(Qmig.Wire.Streaming.MigrationStreamReader).Assembly.GetExportedTypes()
            .Where(t => t.IsValueType && !t.IsNested && t.Namespace == "Qmig.Wire")
            .Where(t => ImplementsWireRecord(t) || t.GetMethods(BindingFlags.Public | BindingFlags.Static).Any(m => m.Name == "TryRead"));

    private static bool ImplementsWireRecord(Type type) =>
        type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IWireRecord<,>));
}
