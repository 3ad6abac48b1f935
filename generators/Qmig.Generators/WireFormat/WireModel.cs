using Qmig.Generators.Common;
using Qmig.Generators.WireFormat.Expressions;

namespace Qmig.Generators.WireFormat;

// The equatable model between parsing a .ksy file and emitting C#. It holds no Roslyn or YamlDotNet
// objects, so the incremental pipeline can compare one run's model with the next and skip emission.

/// <summary>One .ksy file: its types and enums, plus the diagnostics found while reading it.</summary>
public sealed record WireSpec(
    string Path,
    string FileId,
    string Namespace,
    EquatableArray<WireType> Types,
    EquatableArray<WireEnum> Enums,
    EquatableArray<SpecDiagnostic> Diagnostics);

public sealed record WireEnum(
    string Name,
    string? Doc,
    bool IsFlags,
    EquatableArray<WireEnumValue> Values,
    SpecLocation Location);

public sealed record WireEnumValue(string Name, long Value, string? Doc, string? QemuName, SpecLocation Location);

public sealed record WireType(
    string Name,
    string? Doc,
    bool IsSized,
    EquatableArray<WireParam> Params,
    EquatableArray<WireField> Fields,
    EquatableArray<WireInstance> Instances,
    SpecLocation Location);

public sealed record WireParam(string Name, WirePrimitive Type, string? Doc, SpecLocation Location);

/// <summary>An integer (or bool) as Kaitai spells it: u1..u8, s1..s8, with endianness.</summary>
public sealed record WirePrimitive(int Width, bool Signed, bool BigEndian, bool IsBool)
{
    public static readonly WirePrimitive Bool = new(1, false, true, true);
}

public enum WireFieldKind
{
    /// <summary>An integer, possibly an enum.</summary>
    Integer,
    /// <summary>A byte array with a size expression or reaching the end of the record.</summary>
    Bytes,
    /// <summary>Fixed bytes (Kaitai <c>contents</c>): checked on read, written as constants.</summary>
    Contents,
    /// <summary>Another type of the same file, inline.</summary>
    UserType,
    /// <summary>A sized slice whose type depends on an earlier value (Kaitai <c>switch-on</c>).</summary>
    Switch,
}

public enum WireRepeat
{
    None,
    Eos,
    Expr,
}

public sealed record WireField(
    string Name,
    string? Doc,
    WireFieldKind Kind,
    WirePrimitive? Primitive,
    string? EnumName,
    Expr? Size,
    bool SizeEos,
    EquatableArray<byte> Contents,
    string? UserType,
    EquatableArray<Expr> UserTypeArgs,
    Expr? SwitchOn,
    EquatableArray<WireSwitchCase> Cases,
    Expr? Condition,
    WireValid? Valid,
    WireRepeat Repeat,
    Expr? RepeatCount,
    bool SentApart,
    SpecLocation Location,
    WireFieldLocations At);

/// <summary>Where each expression-bearing key's value sits, so errors point at the exact scalar.</summary>
public sealed record WireFieldLocations(SpecLocation Type, SpecLocation Size, SpecLocation Condition, SpecLocation RepeatCount, SpecLocation Enum, SpecLocation Valid);

/// <summary>A <c>switch-on</c> case; <see cref="Key"/> is null for the default case <c>_</c>.</summary>
public sealed record WireSwitchCase(Expr? Key, string TypeName, EquatableArray<Expr> Args, SpecLocation Location);

/// <summary>Kaitai's <c>valid</c>: equality, bounds, a set of values, or an expression over <c>_</c>.</summary>
public sealed record WireValid(Expr? Eq, Expr? Min, Expr? Max, EquatableArray<Expr> AnyOf, Expr? Check, string Text);

public sealed record WireInstance(string Name, string? Doc, Expr Value, string? EnumName, SpecLocation Location);
