using System.Linq;
using Qmig.Generators.Common;

namespace Qmig.Generators.WireFormat;

public sealed partial class WireEmitter
{
    // Reader locals start with '_' or 'v_', so they never clash with parameter names (camelCase).

    private void EmitSpanReader(SourceWriter w, WireType type) => EmitReader(w, type, Shape.Span);

    private void EmitSequenceReader(SourceWriter w, WireType type) => EmitReader(w, type, Shape.Sequence);

    private void EmitReader(SourceWriter w, WireType type, Shape shape)
    {
        var name = TypeName(type.Name);
        var valueType = shape == Shape.Span || IsPlain(type) ? name : name + ".Sequenced";
        var consumedType = shape == Shape.Span ? "int" : "long";
        var source = shape == Shape.Span ? "ReadOnlySpan<byte> source" : "in ReadOnlySequence<byte> source";
        var parameters = string.Concat(type.Params.Select(p => $"{ParamType(p)} {Naming.Camel(p.Name)}, "));
        var arguments = string.Concat(type.Params.Select(p => $"{Naming.Camel(p.Name)}, "));
        var sizedNote = type.IsSized ? " The record is sized: the end of <paramref name=\"source\"/> is the end of the record." : "";
        var tag = shape == Shape.Span ? "Span" : "Sequence";

        w.Line();
        w.Line($"/// <summary>Reads a '{type.Name}' record from the start of <paramref name=\"source\"/>.{sizedNote}</summary>");
        w.Line("/// <returns><c>Done</c>; <c>NeedMoreData</c> if the input is a strict prefix of a record; <c>InvalidData</c> with <paramref name=\"error\"/> saying where and why.</returns>");
        w.Open($"public static OperationStatus TryRead({source}, {parameters}out {valueType} value, out {consumedType} consumed, out global::Qmig.Wire.WireError error)");
        if (shape == Shape.Span)
        {
            w.Line("int _pos = 0;");
        }
        else
        {
            w.Line("long _pos = 0;");
            w.Line("var _rest = source;");
            w.Line("Span<byte> _scratch = stackalloc byte[8];");
        }

        var derived = DerivedFields(type);
        var paramNames = new System.Collections.Generic.HashSet<string>(type.Params.Select(p => p.Name));
        var compiler = NewCompiler(type, n => NameAs(type, n, v => paramNames.Contains(v) ? Naming.Camel(v) : "v_" + v, f => true));
        foreach (var field in type.Fields)
        {
            EmitFieldRead(w, type, field, shape, compiler);
        }

        var ctorArgs = type.Params.Select(p => Naming.Camel(p.Name))
            .Concat(type.Fields.Where(f => f.Kind != WireFieldKind.Contents).Select(f => f.Repeat != WireRepeat.None
                ? $"new {(shape == Shape.Span ? "" : "Sequenced.")}{PropertyName(type, f.Name)}List(v_{f.Name}, c_{f.Name})"
                : f.Kind == WireFieldKind.UserType ? $"v_{f.Name}, r_{f.Name}"
                : "v_" + f.Name));
        w.Line($"value = new {valueType}({string.Join(", ", ctorArgs)});");
        w.Line("consumed = _pos;");
        w.Line("error = default;");
        w.Line("return OperationStatus.Done;");
        w.Close();
        _ = derived;

        w.Line();
        w.Line($"/// <summary>Reads a '{type.Name}' record; see the overload with an error for the results.</summary>");
        w.Line($"public static OperationStatus TryRead({source}, {parameters}out {valueType} value, out {consumedType} consumed)");
        w.Line($"    => TryRead(source, {arguments}out value, out consumed, out _);");

        w.Line();
        w.Line("[MethodImpl(MethodImplOptions.NoInlining)]");
        w.Line($"private static OperationStatus NeedMore{tag}(out {valueType} value, out {consumedType} consumed, out global::Qmig.Wire.WireError error)");
        w.Line("    { value = default; consumed = 0; error = default; return OperationStatus.NeedMoreData; }");
        w.Line();
        w.Line("[MethodImpl(MethodImplOptions.NoInlining)]");
        w.Line($"private static OperationStatus Invalid{tag}(out {valueType} value, out {consumedType} consumed, out global::Qmig.Wire.WireError error, global::Qmig.Wire.WireError reason)");
        w.Line("    { value = default; consumed = 0; error = reason; return OperationStatus.InvalidData; }");
    }

    private void EmitFieldRead(SourceWriter w, WireType type, WireField f, Shape shape, ExprCompiler compiler)
    {
        var tag = shape == Shape.Span ? "Span" : "Sequence";
        var needMore = $"return NeedMore{tag}(out value, out consumed, out error);";
        string Invalid(string rule, string offset = "_pos") =>
            $"return Invalid{tag}(out value, out consumed, out error, new global::Qmig.Wire.WireError(RecordName, {Literal(f.Name)}, {offset}, {Literal(rule)}));";
        var available = shape == Shape.Span ? "(source.Length - _pos)" : "_rest.Length";
        var remaining = shape == Shape.Span ? "source.Slice(_pos)" : "_rest";
        var bytesType = shape == Shape.Span ? "ReadOnlySpan<byte>" : "ReadOnlySequence<byte>";
        string Advance(string count) => shape == Shape.Span ? $"_pos += {count};" : $"_pos += {count}; _rest = _rest.Slice({count});";
        string Take(string count) => shape == Shape.Span ? $"source.Slice(_pos, {count})" : $"_rest.Slice(0, {count})";
        string Head(int width) => shape == Shape.Span ? "source.Slice(_pos)" : $"global::Qmig.Wire.SequenceRead.Head(_rest, {width}, _scratch)";
        var consumedType = shape == Shape.Span ? "int" : "long";

        w.Line();
        w.Line($"// {f.Name}");
        switch (f.Kind)
        {
            case WireFieldKind.Integer when f.Repeat == WireRepeat.None:
                w.Line($"{FieldValueType(f)} v_{f.Name} = default;");
                break;
            case WireFieldKind.Bytes or WireFieldKind.Switch:
                w.Line($"{bytesType} v_{f.Name} = default;");
                break;
            case WireFieldKind.UserType when f.Repeat == WireRepeat.None:
                w.Line($"{(shape == Shape.Span ? SpanTypeOf(f.UserType!) : SequenceTypeOf(f.UserType!))} v_{f.Name} = default;");
                w.Line($"{bytesType} r_{f.Name} = default;");
                break;
            case WireFieldKind.Integer or WireFieldKind.UserType:
                w.Line($"{bytesType} v_{f.Name} = default;");
                w.Line($"int c_{f.Name} = 0;");
                break;
        }

        var conditional = f.Condition is not null;
        if (conditional)
        {
            w.Line($"// {f.Name} if: {Describe(f.Condition!)}");
        }

        w.Open(conditional ? $"if ({Bool(compiler, f.Condition!, f, type)})" : "");
        switch (f.Kind)
        {
            case WireFieldKind.Contents:
            {
                var n = f.Contents.Count;
                w.Line($"ReadOnlySpan<byte> _expected = {ContentsBytes(f)};");
                if (shape == Shape.Span)
                {
                    w.Line($"var _have = Math.Min(source.Length - _pos, {n});");
                    w.Line($"if (!source.Slice(_pos, _have).SequenceEqual(_expected.Slice(0, _have))) {{ {Invalid(ContentsRule(f))} }}");
                    w.Line($"if (_have < {n}) {{ {needMore} }}");
                }
                else
                {
                    w.Line($"if (!global::Qmig.Wire.SequenceRead.StartsWith(_rest, _expected, out var _complete)) {{ {Invalid(ContentsRule(f))} }}");
                    w.Line($"if (!_complete) {{ {needMore} }}");
                }

                w.Line(Advance(n.ToString()));
                break;
            }

            case WireFieldKind.Integer when f.Repeat == WireRepeat.None:
            {
                var width = f.Primitive!.Width;
                w.Line($"if ({available} < {width}) {{ {needMore} }}");
                w.Line($"v_{f.Name} = ({FieldValueType(f)}){ReadIntCall(f.Primitive, Head(width))};");
                if (f.Valid is WireValid valid)
                {
                    w.Line($"if (!({ValidCheck(type, f, valid, compiler, "v_" + f.Name)})) {{ {Invalid(valid.Text)} }}");
                }

                w.Line(Advance(width.ToString()));
                break;
            }

            case WireFieldKind.Bytes when f.SizeEos:
                w.Line($"v_{f.Name} = {remaining};");
                w.Line(Advance(shape == Shape.Span ? "v_" + f.Name + ".Length" : "_rest.Length"));
                break;

            case WireFieldKind.Bytes:
                EmitSizedSlice(w, type, f, compiler, available, Invalid, needMore, shape);
                w.Line($"v_{f.Name} = {Take("_n")};");
                w.Line(Advance("_n"));
                break;

            case WireFieldKind.UserType when f.Repeat == WireRepeat.None && f.Size is null:
            {
                var args = CaseArguments(f.UserType!, f.UserTypeArgs, compiler, f, type);
                w.Line($"var _st = {TypeName(f.UserType!)}.TryRead({remaining}, {args}out v_{f.Name}, out {consumedType} _used, out var _e);");
                w.Line($"if (_st == OperationStatus.NeedMoreData) {{ {needMore} }}");
                w.Line($"if (_st != OperationStatus.Done) {{ return Invalid{tag}(out value, out consumed, out error, _e.At(_pos)); }}");
                w.Line($"r_{f.Name} = {Take("_used")};");
                w.Line(Advance("_used"));
                break;
            }

            case WireFieldKind.UserType when f.Repeat == WireRepeat.None:
            {
                EmitSizedSlice(w, type, f, compiler, available, Invalid, needMore, shape);
                var args = CaseArguments(f.UserType!, f.UserTypeArgs, compiler, f, type);
                w.Line($"var _st = {TypeName(f.UserType!)}.TryRead({Take("_n")}, {args}out v_{f.Name}, out {consumedType} _, out var _e);");
                w.Line($"if (_st == OperationStatus.NeedMoreData) {{ {Invalid($"'{f.UserType}' does not fit in its size")} }}");
                w.Line($"if (_st != OperationStatus.Done) {{ return Invalid{tag}(out value, out consumed, out error, _e.At(_pos)); }}");
                w.Line($"r_{f.Name} = {Take("_n")};");
                w.Line(Advance("_n"));
                break;
            }

            case WireFieldKind.Switch:
                EmitSizedSlice(w, type, f, compiler, available, Invalid, needMore, shape);
                w.Line($"v_{f.Name} = {Take("_n")};");
                EmitCaseValidation(w, type, f, compiler, shape, $"v_{f.Name}", (rule, offset) => Invalid(rule, offset), tag);
                w.Line(Advance("_n"));
                break;

            default:
                EmitRepeatRead(w, type, f, compiler, shape, available, remaining, Invalid, needMore, tag);
                break;
        }

        w.Close();
        if (!conditional)
        {
            // The braces above only scope the field's temporaries.
        }
    }

    private void EmitSizedSlice(SourceWriter w, WireType type, WireField f, ExprCompiler compiler, string available,
        System.Func<string, string, string> invalid, string needMore, Shape shape)
    {
        w.Line($"ulong _size = {Int(compiler, f.Size!, f, type)};");
        w.Line($"if (_size > int.MaxValue) {{ {invalid("size is over 2 GiB", "_pos")} }}");
        w.Line($"if ((ulong){available} < _size) {{ {needMore} }}");
        w.Line($"var _n = ({(shape == Shape.Span ? "int" : "long")})_size;");
    }

    /// <summary>
    /// A switch payload is checked as the case it selects, so a malformed payload is caught when the
    /// record is read; the case must use every byte of the payload (QEMU fixes each command's length).
    /// </summary>
    private void EmitCaseValidation(SourceWriter w, WireType type, WireField f, ExprCompiler compiler, Shape shape, string payload,
        System.Func<string, string, string> invalid, string tag)
    {
        var consumedType = shape == Shape.Span ? "int" : "long";
        var first = true;
        foreach (var (c, test) in SwitchCaseTests(compiler, f, type))
        {
            w.Open($"{(first ? "" : "else ")}if ({test})");
            var args = CaseArguments(c.TypeName, c.Args, compiler, f, type);
            w.Line($"var _st = {TypeName(c.TypeName)}.TryRead({payload}, {args}out var _, out {consumedType} _used, out var _e);");
            w.Line($"if (_st == OperationStatus.NeedMoreData) {{ {invalid($"payload is too short for '{c.TypeName}'", "_pos")} }}");
            w.Line($"if (_st != OperationStatus.Done) {{ return Invalid{tag}(out value, out consumed, out error, _e.At(_pos)); }}");
            w.Line($"if (_used != {payload}.Length) {{ {invalid($"payload is longer than its '{c.TypeName}' record", "_pos + _used")} }}");
            w.Close();
            first = false;
        }
    }

    private void EmitRepeatRead(SourceWriter w, WireType type, WireField f, ExprCompiler compiler, Shape shape, string available, string remaining,
        System.Func<string, string, string> invalid, string needMore, string tag)
    {
        var consumedType = shape == Shape.Span ? "int" : "long";
        w.Line($"var _start = _pos;");
        if (shape == Shape.Sequence)
        {
            w.Line("var _from = _rest;");
        }

        if (f.Repeat == WireRepeat.Expr)
        {
            w.Line($"ulong _count = {Int(compiler, f.RepeatCount!, f, type)};");
            w.Line("if (_count > int.MaxValue) { " + invalid("repeat count is over int.MaxValue", "_pos") + " }");
            w.Line("ulong _i = 0;");
            w.Open("for (; _i < _count; _i++)");
        }
        else
        {
            w.Line("ulong _i = 0;");
            w.Open($"for (; {available} > 0; _i++)");
        }

        var truncated = f.Repeat == WireRepeat.Eos ? invalid("last element is cut off by the end of the record", "_pos") : needMore;
        if (f.Kind == WireFieldKind.Integer)
        {
            var width = f.Primitive!.Width;
            w.Line($"if ({available} < {width}) {{ {truncated} }}");
            if (shape == Shape.Span)
            {
                w.Line($"_pos += {width};");
            }
            else
            {
                w.Line($"_pos += {width}; _rest = _rest.Slice({width});");
            }
        }
        else
        {
            w.Line($"var _st = {TypeName(f.UserType!)}.TryRead({remaining}, out var _, out {consumedType} _used, out var _e);");
            w.Line($"if (_st == OperationStatus.NeedMoreData) {{ {truncated} }}");
            w.Line($"if (_st != OperationStatus.Done) {{ return Invalid{tag}(out value, out consumed, out error, _e.At(_pos)); }}");
            w.Line($"if (_used == 0) {{ {invalid("an element of a repeat reads no bytes", "_pos")} }}");
            w.Line(shape == Shape.Span ? "_pos += _used;" : "_pos += _used; _rest = _rest.Slice(_used);");
        }

        w.Close();
        w.Line(shape == Shape.Span
            ? $"v_{f.Name} = source.Slice(_start, _pos - _start);"
            : $"v_{f.Name} = _from.Slice(0, _pos - _start);");
        w.Line($"c_{f.Name} = (int)_i;");
    }

    private string ValidCheck(WireType type, WireField f, WireValid valid, ExprCompiler compiler, string valueCode)
    {
        var self = f.EnumName is not null
            ? new Typed(valueCode, ValueKind.Enum, f.EnumName)
            : new Typed(valueCode, ValueKind.Int, null, f.Primitive!.Signed);
        compiler.Underscore = self;
        try
        {
            var parts = new System.Collections.Generic.List<string>();
            string Compare(Expressions.Expr e, string op)
            {
                var other = CompileOrReport(compiler, e, f, type);
                return self.Kind == ValueKind.Enum && other.Kind == ValueKind.Enum
                    ? $"{self.Code} {op} {other.Code}"
                    : $"{compiler.AsInt(self)} {op} {compiler.AsInt(other)}";
            }

            if (valid.Eq is not null)
            {
                parts.Add(Compare(valid.Eq, "=="));
            }

            if (valid.Min is not null)
            {
                parts.Add(Compare(valid.Min, ">="));
            }

            if (valid.Max is not null)
            {
                parts.Add(Compare(valid.Max, "<="));
            }

            if (valid.AnyOf.Count > 0)
            {
                parts.Add("(" + string.Join(" || ", valid.AnyOf.Select(a => Compare(a, "=="))) + ")");
            }

            if (valid.Check is not null)
            {
                parts.Add(Bool(compiler, valid.Check, f, type));
            }

            return parts.Count == 0 ? "true" : string.Join(" && ", parts);
        }
        finally
        {
            compiler.Underscore = null;
        }
    }
}
