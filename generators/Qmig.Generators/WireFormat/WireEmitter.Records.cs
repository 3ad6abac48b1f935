using System.Collections.Generic;
using System.Linq;
using Qmig.Generators.Common;

namespace Qmig.Generators.WireFormat;

public sealed partial class WireEmitter
{
    /// <summary>Which of the two shapes of a record is being emitted.</summary>
    private enum Shape
    {
        /// <summary>Over <c>ReadOnlySpan&lt;byte&gt;</c>: a ref struct whose byte arrays are spans.</summary>
        Span,
        /// <summary>Over <c>ReadOnlySequence&lt;byte&gt;</c>: a plain struct whose byte arrays are sequences.</summary>
        Sequence,
    }

    private string EmitType(WireType type)
    {
        var name = TypeName(type.Name);
        var plain = IsPlain(type);
        var w = new SourceWriter();
        Header(w);
        w.Line("using System;");
        w.Line("using System.Buffers;");
        w.Line("using System.Runtime.CompilerServices;");
        w.Line();
        Doc(w, type.Doc, $"The '{type.Name}' record of {SpecFileName}.");
        var contract = type.Params.Count == 0 ? $" : global::Qmig.Wire.IWireRecord<{name}, {(plain ? name : name + ".Sequenced")}>" : "";
        w.Line(GeneratedCodeAttribute.Line("Qmig.Generators.WireFormat"));
        w.Open((plain ? $"public readonly partial struct {name}" : $"public readonly ref partial struct {name}") + contract);
        w.Line($"/// <summary>The record's id in the spec, as errors name it.</summary>");
        w.Line($"public const string RecordName = {Literal(type.Name)};");
        if (FixedSize(type, depth: 0) is { } size && !StoredMembers(type, Shape.Span).Any(m => m.Property == "Size"))
        {
            w.Line();
            w.Line("/// <summary>The bytes every record of this type takes: its fields have one size whatever their values.</summary>");
            w.Line($"public const int Size = {size};");
        }

        w.Line();
        EmitMembers(w, type, name, Shape.Span);
        EmitSpanReader(w, type);
        EmitSequenceReader(w, type);
        EmitWriter(w, type);
        if (!plain)
        {
            w.Line();
            w.Line("/// <summary>The same record read from a <see cref=\"ReadOnlySequence{T}\"/>: byte arrays are slices of the sequence.</summary>");
            w.Open("public readonly struct Sequenced");
            EmitMembers(w, type, "Sequenced", Shape.Sequence);
            w.Close();
        }

        w.Close();
        Footer(w);
        return w.ToString();
    }

    /// <summary>
    /// The encoded size of a record whose every field has one size whatever the values (integers,
    /// fixed bytes, nested records that are fixed too; no condition, no repeat), else null.
    /// </summary>
    private int? FixedSize(WireType type, int depth)
    {
        // Types nest only a few levels in real specs; the bound keeps a cycle in a broken spec from recursing for ever.
        if (type.Params.Count > 0 || depth > 32)
        {
            return null;
        }

        var total = 0;
        foreach (var f in type.Fields)
        {
            if (f.Condition is not null || f.Repeat != WireRepeat.None)
            {
                return null;
            }

            int? width = f.Kind switch
            {
                WireFieldKind.Integer => f.Primitive!.Width,
                WireFieldKind.Contents => f.Contents.Count,
                WireFieldKind.UserType when f.UserTypeArgs.Count == 0 && _types.TryGetValue(f.UserType!, out var inner) => FixedSize(inner, depth + 1),
                _ => null,
            };
            if (width is null)
            {
                return null;
            }

            total += width.Value;
        }

        return total;
    }

    /// <summary>Constructor parameters and properties, in spec order: params, then non-constant fields.</summary>
    private IEnumerable<(string Type, string Property, string Doc)> StoredMembers(WireType type, Shape shape)
    {
        foreach (var p in type.Params)
        {
            yield return (ParamType(p), PropertyName(type, p.Name), XmlDoc.Or(p.Doc, $"The '{p.Name}' parameter '{type.Name}' was read with ({SpecFileName})."));
        }

        foreach (var f in type.Fields)
        {
            if (f.Kind == WireFieldKind.Contents)
            {
                continue;
            }

            yield return (MemberType(type, f, shape), PropertyName(type, f.Name), XmlDoc.Or(f.Doc, $"The '{f.Name}' field of '{type.Name}' in {SpecFileName}."));
            if (f.Kind == WireFieldKind.UserType && f.Repeat == WireRepeat.None)
            {
                // Kept so the record can be written back without re-encoding the nested one.
                yield return (shape == Shape.Span ? "ReadOnlySpan<byte>" : "ReadOnlySequence<byte>", PropertyName(type, f.Name) + "Raw",
                    $"The encoded bytes of '{f.Name}'.");
            }
        }
    }

    private string MemberType(WireType type, WireField f, Shape shape)
    {
        if (f.Repeat != WireRepeat.None)
        {
            return PropertyName(type, f.Name) + "List";
        }

        var bytes = shape == Shape.Span ? "ReadOnlySpan<byte>" : "ReadOnlySequence<byte>";
        return f.Kind switch
        {
            WireFieldKind.Integer => FieldValueType(f),
            WireFieldKind.Bytes or WireFieldKind.Switch => bytes,
            WireFieldKind.UserType => shape == Shape.Span ? SpanTypeOf(f.UserType!) : SequenceTypeOf(f.UserType!),
            _ => "void",
        };
    }

    private void EmitMembers(SourceWriter w, WireType type, string structName, Shape shape)
    {
        var members = StoredMembers(type, shape).ToList();
        if (members.Count > 0)
        {
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Open($"internal {structName}({string.Join(", ", members.Select(m => $"{m.Type} {Local(m.Property)}"))})");
            foreach (var m in members)
            {
                w.Line($"{m.Property} = {Local(m.Property)};");
            }

            w.Close();
        }
        foreach (var m in members)
        {
            w.Line();
            XmlDoc.Summary(w, m.Doc);
            w.Line($"public {m.Type} {m.Property} {{ get; }}");
        }

        // Instances and presence tests read the stored properties, and each other's.
        var compiler = NewCompiler(type, n => NameAs(type, n, field => "this." + PropertyName(type, field), _ => true), instance => "this." + PropertyName(type, instance));
        foreach (var instance in type.Instances)
        {
            var value = CompileOrReport(compiler, instance.Value, null, type);
            if (instance.EnumName is not null && value.Kind != ValueKind.Enum)
            {
                value = new Typed($"(({EnumTypeName(instance.EnumName)})({compiler.AsInt(value)}))", ValueKind.Enum, instance.EnumName);
            }

            var (propertyType, code) = value.Kind switch
            {
                ValueKind.Bool => ("bool", value.Code),
                ValueKind.Enum => (EnumTypeName(value.EnumName!), value.Code),
                ValueKind.Bytes => (shape == Shape.Span ? "ReadOnlySpan<byte>" : "ReadOnlySequence<byte>", value.Code),
                _ => ("ulong", compiler.AsInt(value)),
            };
            w.Line();
            Doc(w, instance.Doc, $"The value '{instance.Name}' that {SpecFileName} computes for '{type.Name}'.");
            w.Line($"// {instance.Name}: {Describe(instance.Value)}");
            w.Line($"public {propertyType} {PropertyName(type, instance.Name)} => {code};");
        }

        foreach (var f in type.Fields.Where(f => f.Condition is not null && f.Kind != WireFieldKind.Contents))
        {
            w.Line();
            w.Line($"/// <summary>Whether '{f.Name}' is present (its spec condition holds).</summary>");
            w.Line($"// if: {Describe(f.Condition!)}");
            w.Line($"public bool Is{PropertyName(type, f.Name)}Present => {Bool(compiler, f.Condition!, f, type)};");
        }

        foreach (var f in type.Fields.Where(f => f.Kind == WireFieldKind.Switch))
        {
            EmitSwitchAccessors(w, type, f, shape, compiler);
        }

        foreach (var f in type.Fields.Where(f => f.Repeat != WireRepeat.None))
        {
            EmitList(w, type, f, shape);
        }

        EmitContentEquals(w, type, shape);
        if (shape == Shape.Span)
        {
            EmitRewrite(w, type);
        }
    }

    /// <summary>
    /// Field-by-field equality; the sequence shape compares against the span shape, so a record
    /// read from a multi-segment sequence can be checked against the same bytes read as one span.
    /// </summary>
    private void EmitContentEquals(SourceWriter w, WireType type, Shape shape)
    {
        var name = TypeName(type.Name);
        var parts = new List<string>();
        foreach (var p in type.Params)
        {
            parts.Add($"{PropertyName(type, p.Name)} == other.{PropertyName(type, p.Name)}");
        }

        foreach (var f in type.Fields.Where(f => f.Kind != WireFieldKind.Contents))
        {
            var property = PropertyName(type, f.Name);
            if (f.Repeat != WireRepeat.None)
            {
                parts.Add($"{property}.Count == other.{property}.Count");
                parts.Add(BytesEqual(shape, $"{property}.Raw", $"other.{property}.Raw"));
            }
            else if (f.Kind == WireFieldKind.Integer)
            {
                parts.Add($"{property} == other.{property}");
            }
            else if (f.Kind == WireFieldKind.UserType)
            {
                parts.Add($"{property}.ContentEquals(other.{property})");
            }
            else
            {
                parts.Add(BytesEqual(shape, property, "other." + property));
            }
        }

        w.Line();
        w.Line(shape == Shape.Span
            ? "/// <summary>True if both records hold the same values and bytes.</summary>"
            : "/// <summary>True if this record holds the same values and bytes as <paramref name=\"other\"/>, read from a span.</summary>");
        w.Line($"public bool ContentEquals({name} other) => {(parts.Count == 0 ? "true" : string.Join(" && ", parts))};");
    }

    private static string BytesEqual(Shape shape, string mine, string theirs) => shape == Shape.Span
        ? $"{mine}.SequenceEqual({theirs})"
        : $"global::Qmig.Wire.SequenceRead.ContentEquals({mine}, {theirs})";

    /// <summary>Writes the record back: a proxy or a rewriting tool re-encodes what it read.</summary>
    private void EmitRewrite(SourceWriter w, WireType type)
    {
        var derived = DerivedFields(type);
        var args = type.Params.Select(p => PropertyName(type, p.Name))
            .Concat(type.Fields.Where(f => f.Kind != WireFieldKind.Contents && !derived.ContainsKey(f.Name)).Select(f =>
                f.Repeat != WireRepeat.None ? PropertyName(type, f.Name) + ".Raw"
                : f.Kind == WireFieldKind.UserType ? PropertyName(type, f.Name) + "Raw"
                : PropertyName(type, f.Name)))
            .ToList();
        var lead = args.Count == 0 ? "" : ", ";
        w.Line();
        w.Line("/// <summary>Writes this record back (length fields derived again from what it holds).</summary>");
        w.Line($"public OperationStatus TryWriteTo(Span<byte> destination, out int written) => WriteCore(destination, false{lead}{string.Join(", ", args)}, out written, out _);");
        w.Line();
        w.Line("/// <summary>The size <see cref=\"TryWriteTo\"/> writes, or -1 if the record breaks the spec.</summary>");
        w.Line($"public int EncodedSize => WriteCore(default, true{lead}{string.Join(", ", args)}, out var size, out _) == OperationStatus.Done ? size : -1;");
    }

    private static string Local(string property) => "_" + char.ToLowerInvariant(property[0]) + property.Substring(1);

    /// <summary>For each case of a switch payload, a reader of the payload as that case's record.</summary>
    private void EmitSwitchAccessors(SourceWriter w, WireType type, WireField f, Shape shape, ExprCompiler compiler)
    {
        var property = PropertyName(type, f.Name);
        foreach (var c in f.Cases.GroupBy(c => c.TypeName).Select(g => g.First()))
        {
            var caseType = shape == Shape.Span ? SpanTypeOf(c.TypeName) : SequenceTypeOf(c.TypeName);
            var consumedType = shape == Shape.Span ? "int" : "long";
            var args = CaseArguments(c.TypeName, c.Args, compiler, f, type);
            w.Line();
            w.Line($"/// <summary>Reads '{f.Name}' as a '{c.TypeName}' record (the spec selects it by the value of its switch).</summary>");
            w.Line($"public System.Buffers.OperationStatus TryRead{property}As{TypeName(c.TypeName)}(out {caseType} value, out {consumedType} consumed, out global::Qmig.Wire.WireError error)");
            w.Line($"    => {TypeName(c.TypeName)}.TryRead({property}, {args}out value, out consumed, out error);");
        }
    }

    /// <summary>The arguments of a type invocation, each followed by ", ".</summary>
    private string CaseArguments(string typeName, EquatableArray<Expressions.Expr> args, ExprCompiler compiler, WireField f, WireType type)
    {
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < args.Count; i++)
        {
            text.Append(ArgCast(typeName, i, Int(compiler, args[i], f, type))).Append(", ");
        }

        return text.ToString();
    }

    /// <summary>Arguments arrive as ulong expressions; the callee's params have their own types.</summary>
    private string ArgCast(string typeName, int index, string code)
    {
        var param = _types[typeName].Params[index];
        return param.Type.IsBool ? $"({code} != 0UL)" : $"unchecked(({IntType(param.Type)})({code}))";
    }

    /// <summary>A repeated field: the bytes of all elements, their count, and an allocation-free enumerator.</summary>
    private void EmitList(SourceWriter w, WireType type, WireField f, Shape shape)
    {
        var listName = PropertyName(type, f.Name) + "List";
        var bytes = shape == Shape.Span ? "ReadOnlySpan<byte>" : "ReadOnlySequence<byte>";
        var element = f.Kind == WireFieldKind.Integer
            ? FieldValueType(f)
            : shape == Shape.Span ? SpanTypeOf(f.UserType!) : SequenceTypeOf(f.UserType!);
        var refKind = shape == Shape.Span ? "ref " : "";
        w.Line();
        w.Line($"/// <summary>The elements of '{f.Name}', read one at a time from <see cref=\"Raw\"/>.</summary>");
        w.Open($"public readonly {refKind}struct {listName}");
        w.Line($"internal {listName}({bytes} raw, int count) {{ Raw = raw; Count = count; }}");
        w.Line();
        w.Line("/// <summary>The encoded elements, back to back.</summary>");
        w.Line($"public {bytes} Raw {{ get; }}");
        w.Line();
        w.Line("/// <summary>How many elements there are.</summary>");
        w.Line("public int Count { get; }");
        w.Line();
        w.Line("/// <summary>Starts reading the elements; <c>foreach</c> calls it, and nothing is allocated.</summary>");
        w.Line("public Enumerator GetEnumerator() => new(Raw);");
        w.Line();
        w.Line($"/// <summary>Reads the elements of '{f.Name}' in order; stops at the first that is not whole or not valid.</summary>");
        w.Open($"public {refKind}struct Enumerator");
        w.Line($"private {bytes} _rest;");
        w.Line($"private {element} _current;");
        w.Line($"internal Enumerator({bytes} raw) {{ _rest = raw; _current = default; }}");
        w.Line("/// <summary>The element the last <see cref=\"MoveNext\"/> read.</summary>");
        w.Line($"public readonly {element} Current => _current;");
        w.Line("/// <summary>Reads the next element; false at the end or at an element that is not whole or not valid.</summary>");
        w.Open("public bool MoveNext()");
        w.Line("if (_rest.IsEmpty) { return false; }");
        if (f.Kind == WireFieldKind.Integer)
        {
            var width = f.Primitive!.Width;
            var span = shape == Shape.Span ? "_rest" : $"global::Qmig.Wire.SequenceRead.Head(_rest, {width}, stackalloc byte[{width}])";
            w.Line($"if (_rest.Length < {width}) {{ _rest = default; return false; }}");
            w.Line($"_current = ({element}){ReadIntCall(f.Primitive!, span)};");
            w.Line($"_rest = _rest.Slice({width});");
        }
        else
        {
            var consumed = shape == Shape.Span ? "int" : "long";
            w.Line($"if ({TypeName(f.UserType!)}.TryRead(_rest, out _current, out {consumed} used, out _) != OperationStatus.Done || used == 0) {{ _rest = default; return false; }}");
            w.Line("_rest = _rest.Slice(used);");
        }

        w.Line("return true;");
        w.Close();
        w.Close();
        w.Close();
    }
}
