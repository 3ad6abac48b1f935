using System;
using System.Collections.Generic;
using System.Linq;
using Qmig.Generators.Common;
using Qmig.Generators.WireFormat.Expressions;

namespace Qmig.Generators.WireFormat;

/// <summary>
/// Emits C# for a checked <see cref="WireSpec"/>: one file per record type (reader, sequence reader,
/// writer) and one per enum. Problems only C# typing reveals (an integer used as a condition, say)
/// come back as diagnostics and stop emission for the file.
/// </summary>
public sealed partial class WireEmitter
{
    private readonly WireSpec _spec;
    private readonly Dictionary<string, WireType> _types;
    private readonly Dictionary<string, WireEnum> _enums;
    private readonly Dictionary<string, WirePrimitive> _enumStorage = new();
    private readonly List<SpecDiagnostic> _diagnostics = [];

    private WireEmitter(WireSpec spec)
    {
        _spec = spec;
        _types = spec.Types.ToDictionary(t => t.Name);
        _enums = spec.Enums.ToDictionary(e => e.Name);
        foreach (var type in spec.Types)
        {
            foreach (var field in type.Fields)
            {
                if (field.EnumName is not null && field.Primitive is not null)
                {
                    if (!_enumStorage.TryGetValue(field.EnumName, out var known) || known.Width < field.Primitive.Width)
                    {
                        _enumStorage[field.EnumName] = field.Primitive;
                    }
                }
            }
        }
    }

    /// <summary>Generated files (hint name, text) and the diagnostics found while emitting.</summary>
    public static (List<(string HintName, string Source)> Files, List<SpecDiagnostic> Diagnostics) Emit(WireSpec spec)
    {
        var emitter = new WireEmitter(spec);
        var files = new List<(string, string)>();
        foreach (var e in spec.Enums)
        {
            files.Add(($"{spec.FileId}.{Naming.Pascal(e.Name)}.g.cs", emitter.EmitEnum(e)));
        }

        foreach (var type in spec.Types)
        {
            try
            {
                files.Add(($"{spec.FileId}.{Naming.Pascal(type.Name)}.g.cs", emitter.EmitType(type)));
            }
            catch (FieldException ex)
            {
                emitter._diagnostics.Add(SpecDiagnostic.Create(ex.Id, ex.Location, ex.Arguments));
            }
        }

        return (files, emitter._diagnostics);
    }

    /// <summary>An emission problem tied to a spec location; caught per type.</summary>
    private sealed class FieldException(string id, SpecLocation location, params string[] arguments) : Exception(id)
    {
        public string Id { get; } = id;

        public SpecLocation Location { get; } = location;

        public string[] Arguments { get; } = arguments;
    }

    // ---- facts about types and fields ----

    private static string TypeName(string name) => Naming.Pascal(name);

    private string EnumTypeName(string name) => Naming.Pascal(name);

    /// <summary>A type with only integers and constants is a plain struct that can live on the heap.</summary>
    private bool IsPlain(WireType type) =>
        type.Fields.All(f => f.Repeat == WireRepeat.None && f.Kind is WireFieldKind.Integer or WireFieldKind.Contents);

    private string SpanTypeOf(string userType) => TypeName(userType);

    private string SequenceTypeOf(string userType) =>
        IsPlain(_types[userType]) ? TypeName(userType) : TypeName(userType) + ".Sequenced";

    private static string PropertyName(WireType type, string name)
    {
        var property = Naming.Pascal(name);
        return property == TypeName(type.Name) ? property + "Value" : property;
    }

    private static string IntType(WirePrimitive p) => p.IsBool ? "bool" : (p.Width, p.Signed) switch
    {
        (1, false) => "byte",
        (2, false) => "ushort",
        (4, false) => "uint",
        (8, false) => "ulong",
        (1, true) => "sbyte",
        (2, true) => "short",
        (4, true) => "int",
        _ => "long",
    };

    private string FieldValueType(WireField field) =>
        field.EnumName is not null ? EnumTypeName(field.EnumName) : IntType(field.Primitive!);

    private static string ReadIntCall(WirePrimitive p, string span)
    {
        if (p.Width == 1)
        {
            return p.Signed ? $"(sbyte){span}[0]" : $"{span}[0]";
        }

        var bits = p.Width * 8;
        var kind = p.Signed ? "Int" : "UInt";
        var endian = p.BigEndian ? "BigEndian" : "LittleEndian";
        return $"global::System.Buffers.Binary.BinaryPrimitives.Read{kind}{bits}{endian}({span})";
    }

    private static string WriteIntStatement(WirePrimitive p, string destination, string value)
    {
        var natural = IntType(p);
        if (p.Width == 1)
        {
            return $"{destination}[0] = unchecked((byte)({natural})({value}));";
        }

        var bits = p.Width * 8;
        var kind = p.Signed ? "Int" : "UInt";
        var endian = p.BigEndian ? "BigEndian" : "LittleEndian";
        return $"global::System.Buffers.Binary.BinaryPrimitives.Write{kind}{bits}{endian}({destination}, unchecked(({natural})({value})));";
    }

    private static ulong MaxOf(WirePrimitive p) => p.Signed
        ? (p.Width == 8 ? long.MaxValue : (1UL << ((p.Width * 8) - 1)) - 1)
        : (p.Width == 8 ? ulong.MaxValue : (1UL << (p.Width * 8)) - 1);

    /// <summary>
    /// Length and count fields that a later field names bare as its size or repeat-expr: writers
    /// derive them from what they write instead of taking them as arguments.
    /// </summary>
    private static Dictionary<string, WireField> DerivedFields(WireType type)
    {
        var derived = new Dictionary<string, WireField>();
        foreach (var field in type.Fields)
        {
            if (field.Size is NameRef sizeName && field.Repeat == WireRepeat.None)
            {
                AddIfInteger(type, derived, sizeName.Name, field);
            }

            if (field.RepeatCount is NameRef countName)
            {
                AddIfInteger(type, derived, countName.Name, field);
            }
        }

        return derived;
    }

    private static void AddIfInteger(WireType type, Dictionary<string, WireField> derived, string name, WireField user)
    {
        var source = type.Fields.FirstOrDefault(f => f.Name == name);
        if (source is { Kind: WireFieldKind.Integer, Repeat: WireRepeat.None, EnumName: null } && !derived.ContainsKey(name))
        {
            derived[name] = user;
        }
    }

    private static string Literal(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string ContentsRule(WireField field) =>
        "contents [" + string.Join(", ", field.Contents.Select(b => "0x" + b.ToString("x2"))) + "]";

    private static string ContentsBytes(WireField field) =>
        "new byte[] { " + string.Join(", ", field.Contents.Select(b => "0x" + b.ToString("X2"))) + " }";

    /// <summary>How generated docs without a spec doc name where a member comes from.</summary>
    private string SpecFileName => System.IO.Path.GetFileName(_spec.Path);

    private static void Doc(SourceWriter w, string? doc, string fallback) => XmlDoc.Summary(w, XmlDoc.Or(doc, fallback));

    /// <summary>A switch field's cases in the order the generated code tests them (the default last), each with the condition that selects it.</summary>
    private IEnumerable<(WireSwitchCase Case, string Test)> SwitchCaseTests(ExprCompiler compiler, WireField f, WireType type)
    {
        var on = CompileOrReport(compiler, f.SwitchOn!, f, type);
        foreach (var c in f.Cases.Where(c => c.Key is not null).Concat(f.Cases.Where(c => c.Key is null)))
        {
            if (c.Key is null)
            {
                yield return (c, "true");
                continue;
            }

            var key = CompileOrReport(compiler, c.Key, f, type);
            yield return (c, on.Kind == ValueKind.Enum && key.Kind == ValueKind.Enum ? $"{on.Code} == {key.Code}" : $"{compiler.AsInt(on)} == {compiler.AsInt(key)}");
        }
    }

    private Typed CompileOrReport(ExprCompiler compiler, Expr expr, WireField? field, WireType type)
    {
        try
        {
            return compiler.Compile(expr);
        }
        catch (ExprTypeException ex)
        {
            throw new FieldException("QMIG1002", field?.Location ?? type.Location, Describe(expr), ex.Message);
        }
    }

    private string Bool(ExprCompiler compiler, Expr expr, WireField? field, WireType type)
    {
        try
        {
            return compiler.AsBool(compiler.Compile(expr));
        }
        catch (ExprTypeException ex)
        {
            throw new FieldException("QMIG1002", field?.At.Condition ?? type.Location, Describe(expr), ex.Message);
        }
    }

    private string Int(ExprCompiler compiler, Expr expr, WireField? field, WireType type)
    {
        try
        {
            return compiler.AsInt(compiler.Compile(expr));
        }
        catch (ExprTypeException ex)
        {
            throw new FieldException("QMIG1002", field?.Location ?? type.Location, Describe(expr), ex.Message);
        }
    }

    private static string Describe(Expr expr) => expr switch
    {
        IntLiteral i => i.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        BoolLiteral b => b.Value ? "true" : "false",
        NameRef n => n.Name,
        EnumRef e => e.EnumName + "::" + e.ValueName,
        LengthOf l => Describe(l.Target) + ".length",
        Unary u => u.Op + (u.Op == "not" ? " " : "") + Describe(u.Operand),
        Binary b => "(" + Describe(b.Left) + " " + b.Op + " " + Describe(b.Right) + ")",
        Conditional c => Describe(c.Condition) + " ? " + Describe(c.WhenTrue) + " : " + Describe(c.WhenFalse),
        _ => "?",
    };

    private ExprCompiler NewCompiler(WireType type, Func<string, Typed?> resolve, Func<string, string?>? instanceProperty = null) =>
        new(resolve, type.Instances.ToDictionary(i => i.Name, i => i), EnumTypeName, instanceProperty);

    /// <summary>How a field or param reads in an expression, given the C# text that holds its value.</summary>
    private Typed? NameAs(WireType type, string name, Func<string, string> valueCode, Func<WireField, bool> readable)
    {
        var param = type.Params.FirstOrDefault(p => p.Name == name);
        if (param is not null)
        {
            return new Typed(valueCode(name), param.Type.IsBool ? ValueKind.Bool : ValueKind.Int, null, param.Type.Signed);
        }

        var field = type.Fields.FirstOrDefault(f => f.Name == name);
        if (field is null || !readable(field))
        {
            return null;
        }

        if (field.Repeat != WireRepeat.None || field.Kind == WireFieldKind.UserType)
        {
            return new Typed(valueCode(name), ValueKind.Record);
        }

        return field.Kind switch
        {
            WireFieldKind.Integer when field.EnumName is not null => new Typed(valueCode(name), ValueKind.Enum, field.EnumName),
            WireFieldKind.Integer => new Typed(valueCode(name), ValueKind.Int, null, field.Primitive!.Signed),
            WireFieldKind.Bytes or WireFieldKind.Switch => new Typed(valueCode(name), ValueKind.Bytes),
            _ => null,
        };
    }

    private static string ParamType(WireParam p) => IntType(p.Type);
}
