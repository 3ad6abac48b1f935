using System.Collections.Generic;
using System.Linq;
using Qmig.Generators.Common;
using Qmig.Generators.WireFormat.Expressions;

namespace Qmig.Generators.WireFormat;

public sealed partial class WireEmitter
{
    /// <summary>
    /// Writers take every field except constants and derived lengths/counts; nested records, switch
    /// payloads and repeats arrive already encoded and are checked with their own readers, so a
    /// writer never emits a record that its reader would reject.
    /// </summary>
    private void EmitWriter(SourceWriter w, WireType type)
    {
        var derived = DerivedFields(type);
        var parameters = new List<string>();
        var arguments = new List<string>();
        foreach (var p in type.Params)
        {
            parameters.Add($"{ParamType(p)} {Naming.Camel(p.Name)}");
            arguments.Add(Naming.Camel(p.Name));
        }

        foreach (var f in type.Fields.Where(f => f.Kind != WireFieldKind.Contents && !derived.ContainsKey(f.Name)))
        {
            var isInteger = f.Kind == WireFieldKind.Integer && f.Repeat == WireRepeat.None;
            parameters.Add($"{(isInteger ? FieldValueType(f) : "ReadOnlySpan<byte>")} {Naming.Camel(f.Name)}");
            arguments.Add(Naming.Camel(f.Name));
        }

        var paramList = string.Join(", ", parameters);
        var argList = string.Join(", ", arguments);
        var apart = type.Fields.FirstOrDefault(f => f.SentApart);
        var apartIndex = apart is null ? int.MaxValue : type.Fields.FindIndex(f => f == apart);
        var lead = parameters.Count == 0 ? "" : ", ";
        var derivedNote = derived.Count == 0 ? "" : $" Derived from what is written: {string.Join(", ", derived.Keys)}.";

        w.Line();
        w.Line($"/// <summary>The encoded size of a '{type.Name}' record with these values, or -1 if they break the spec.</summary>");
        w.Line($"public static int GetSize({paramList})");
        w.Line($"    => WriteCore(default, true{lead}{argList}, out var _size, out _) == OperationStatus.Done ? _size : -1;");
        w.Line();
        w.Line($"/// <summary>Writes a '{type.Name}' record.{derivedNote}</summary>");
        w.Line("/// <returns><c>Done</c>; <c>DestinationTooSmall</c>; or <c>InvalidData</c> if a value breaks the spec.</returns>");
        w.Line($"public static OperationStatus TryWrite(Span<byte> destination{lead}{paramList}, out int written)");
        w.Line($"    => WriteCore(destination, false{lead}{argList}, out written, out _);");
        w.Line();
        w.Line($"/// <summary>Writes a '{type.Name}' record to <paramref name=\"writer\"/>.{derivedNote}</summary>");
        w.Line("/// <exception cref=\"global::Qmig.Wire.WireWriteException\">A value breaks the spec.</exception>");
        w.Open($"public static void Write(IBufferWriter<byte> writer{lead}{paramList})");
        w.Line($"var _status = WriteCore(writer.GetSpan(), false{lead}{argList}, out var _written, out var _rule);");
        w.Open("if (_status == OperationStatus.DestinationTooSmall)");
        w.Line($"WriteCore(default, true{lead}{argList}, out var _needed, out _);");
        w.Line($"_status = WriteCore(writer.GetSpan(_needed), false{lead}{argList}, out _written, out _rule);");
        w.Close();
        w.Line("if (_status != OperationStatus.Done) { throw new global::Qmig.Wire.WireWriteException(RecordName, _rule ?? _status.ToString()); }");
        w.Line("writer.Advance(_written);");
        w.Close();

        if (apart is not null)
        {
            EmitWriterWithoutApartField(w, type, apart, parameters, arguments, derivedNote);
        }

        w.Line();
        w.Open($"private static OperationStatus WriteCore(Span<byte> _destination, bool _measure{lead}{paramList}, out int _written, out string? _rule{(apart is null ? "" : ", bool _apart = false")})");
        w.Line("_written = 0;");
        w.Line("_rule = null;");
        if (apart is not null)
        {
            w.Line($"var _apartPresent = false;");
        }

        // The instances the checks read (has_block_id, is_page, ...) become locals named as the spec names
        // them, computed once, when they read only values given (not lengths the writer derives).
        var instances = type.Instances.ToDictionary(i => i.Name, i => i);
        var locals = WriterExpressions(type)
            .SelectMany(NamesRead)
            .Where(name => instances.TryGetValue(name, out var instance) && !instance.Value.NamesThroughInstances(instances).Any(derived.ContainsKey))
            .Distinct()
            .ToList();
        Typed? Resolve(string n) => NameAs(type, n, v => derived.ContainsKey(v) ? "d_" + v : Naming.Camel(v), _ => true);
        // Each local in terms of the ones before it: those it reads come first.
        var defined = new HashSet<string>();
        var definedInline = NewCompiler(type, Resolve, name => defined.Contains(name) ? Naming.Camel(name) : null);
        while (defined.Count < locals.Count)
        {
            var next = locals.First(local => !defined.Contains(local) && NamesRead(instances[local].Value).All(name => defined.Contains(name) || !locals.Contains(name)));
            w.Line($"var {Naming.Camel(next)} = {definedInline.Compile(new NameRef(next)).Code};");
            defined.Add(next);
        }

        var compiler = NewCompiler(type, Resolve, name => locals.Contains(name) ? Naming.Camel(name) : null);
        string Fail(string rule) => $"{{ _rule = {Literal(rule)}; return OperationStatus.InvalidData; }}";

        // Derived lengths and counts first: conditions and checks may read them.
        foreach (var pair in derived.OrderBy(d => type.Fields.FindIndex(f => f.Name == d.Key)))
        {
            var lengthField = type.Fields.First(f => f.Name == pair.Key);
            var user = pair.Value;
            var natural = IntType(lengthField.Primitive!);
            // A length whose field is absent (its if is false) is not written, so it is not checked either.
            w.Line($"{natural} d_{lengthField.Name} = 0;");
            w.Open(lengthField.Condition is null ? "" : $"if ({Bool(compiler, lengthField.Condition, lengthField, type)})");
            if (user.Repeat != WireRepeat.None)
            {
                w.Line($"var _count_{user.Name} = Count{PropertyName(type, user.Name)}({Naming.Camel(user.Name)});");
                w.Line($"if (_count_{user.Name} < 0) {Fail($"'{user.Name}' is not a whole number of valid elements")}");
                w.Line($"if ((ulong)_count_{user.Name} > {MaxOf(lengthField.Primitive!)}UL) {Fail($"'{user.Name}' has more elements than '{lengthField.Name}' can count")}");
                w.Line($"d_{lengthField.Name} = ({natural})_count_{user.Name};");
            }
            else
            {
                w.Line($"if ((ulong){Naming.Camel(user.Name)}.Length > {MaxOf(lengthField.Primitive!)}UL) {Fail($"'{user.Name}' is longer than '{lengthField.Name}' can say")}");
                w.Line($"d_{lengthField.Name} = ({natural}){Naming.Camel(user.Name)}.Length;");
            }

            if (lengthField.Valid is WireValid dv)
            {
                w.Line($"if (!({ValidCheck(type, lengthField, dv, compiler, "d_" + lengthField.Name)})) {Fail(dv.Text + $" ('{lengthField.Name}', derived)")}");
            }

            w.Close();
        }

        // Checks of the values given, then the size.
        w.Line("long _size = 0;");
        foreach (var f in type.Fields)
        {
            var value = derived.ContainsKey(f.Name) ? "d_" + f.Name : Naming.Camel(f.Name);
            var condition = f.Condition is null ? null : Bool(compiler, f.Condition, f, type);
            w.Open(condition is null ? "" : $"if ({condition})");
            if (apart is not null && type.Fields.FindIndex(other => other == f) > apartIndex)
            {
                w.Line($"if (_apartPresent) {Fail($"'{f.Name}' would follow '{apart.Name}', which is sent apart")}");
            }

            if (f == apart)
            {
                w.Open("if (_apart)");
                w.Line("_apartPresent = true;");
                w.Close();
                w.Open("else");
            }

            switch (f.Kind)
            {
                case WireFieldKind.Contents:
                    w.Line($"_size += {f.Contents.Count};");
                    break;
                case WireFieldKind.Integer when f.Repeat == WireRepeat.None:
                    if (f.Valid is WireValid valid && !derived.ContainsKey(f.Name))
                    {
                        w.Line($"if (!({ValidCheck(type, f, valid, compiler, value)})) {Fail(valid.Text + $" ('{f.Name}')")}");
                    }

                    w.Line($"_size += {f.Primitive!.Width};");
                    break;
                case WireFieldKind.Bytes or WireFieldKind.UserType or WireFieldKind.Switch when f.Repeat == WireRepeat.None:
                    if (f.Size is not null && !(f.Size is Expressions.NameRef n && derived.ContainsKey(n.Name)))
                    {
                        w.Line($"if ((ulong){value}.Length != {Int(compiler, f.Size, f, type)}) {Fail($"'{f.Name}' must be as long as its size says")}");
                    }

                    if (f.Kind == WireFieldKind.UserType)
                    {
                        var args = CaseArguments(f.UserType!, f.UserTypeArgs, compiler, f, type);
                        w.Line($"if ({TypeName(f.UserType!)}.TryRead({value}, {args}out var _, out int _used, out _) != OperationStatus.Done || _used != {value}.Length) {Fail($"'{f.Name}' is not one valid '{f.UserType}' record")}");
                    }

                    if (f.Kind == WireFieldKind.Switch)
                    {
                        EmitWriterCaseCheck(w, type, f, compiler, value, Fail);
                    }

                    w.Line($"_size += {value}.Length;");
                    break;
                default:
                    if (f.Repeat == WireRepeat.Expr && !(f.RepeatCount is Expressions.NameRef rn && derived.ContainsKey(rn.Name)))
                    {
                        w.Line($"if ((ulong)Count{PropertyName(type, f.Name)}({value}) != {Int(compiler, f.RepeatCount!, f, type)}) {Fail($"'{f.Name}' must hold as many elements as its repeat-expr says")}");
                    }
                    else if (f.Repeat == WireRepeat.Eos)
                    {
                        w.Line($"if (Count{PropertyName(type, f.Name)}({value}) < 0) {Fail($"'{f.Name}' is not a whole number of valid elements")}");
                    }

                    w.Line($"_size += {value}.Length;");
                    break;
            }

            if (f == apart)
            {
                w.Close();
            }

            w.Close();
        }

        if (apart is not null)
        {
            w.Line($"if (_apart && !_apartPresent) {Fail($"'{apart.Name}' is absent, so it cannot be sent apart")}");
        }

        w.Line("if (_size > int.MaxValue) { _rule = \"record is over 2 GiB\"; return OperationStatus.InvalidData; }");
        w.Line("if (_measure) { _written = (int)_size; return OperationStatus.Done; }");
        w.Line("if (_destination.Length < _size) { return OperationStatus.DestinationTooSmall; }");
        w.Line("var _pos = 0;");
        foreach (var f in type.Fields)
        {
            var value = derived.ContainsKey(f.Name) ? "d_" + f.Name : Naming.Camel(f.Name);
            var condition = f.Condition is null ? null : Bool(compiler, f.Condition, f, type);
            if (condition is not null)
            {
                w.Open($"if ({condition})");
            }

            switch (f.Kind)
            {
                case WireFieldKind.Contents:
                    w.Line($"{ContentsBytes(f)}.CopyTo(_destination.Slice(_pos));".Replace("new byte[]", "((ReadOnlySpan<byte>)new byte[]") .Replace(" }.CopyTo", " }).CopyTo"));
                    w.Line($"_pos += {f.Contents.Count};");
                    break;
                case WireFieldKind.Integer when f.Repeat == WireRepeat.None:
                    w.Line(WriteIntStatement(f.Primitive!, "_destination.Slice(_pos)", value));
                    w.Line($"_pos += {f.Primitive!.Width};");
                    break;
                default:
                    if (f == apart)
                    {
                        w.Open("if (!_apart)");
                    }

                    w.Line($"global::Qmig.Wire.WireCopy.Copy({value}, _destination.Slice(_pos));");
                    w.Line($"_pos += {value}.Length;");
                    if (f == apart)
                    {
                        w.Close();
                    }

                    break;
            }

            if (condition is not null)
            {
                w.Close();
            }
        }

        w.Line("_written = _pos;");
        w.Line("return OperationStatus.Done;");
        w.Close();

        foreach (var f in type.Fields.Where(f => f.Repeat != WireRepeat.None))
        {
            EmitElementCounter(w, type, f);
        }
    }

    /// <summary>
    /// <c>WriteWithout{Field}</c> for a field marked <c>-qmig-sent-apart</c>: the record up to that field,
    /// whose bytes the caller sends right after it from where they live (a gather write), so they are not
    /// copied into the output first. The field must be present and end the record.
    /// </summary>
    private void EmitWriterWithoutApartField(SourceWriter w, WireType type, WireField apart, List<string> parameters, List<string> arguments, string derivedNote)
    {
        var offset = type.Params.Count;
        var index = offset + type.Fields.Where(f => f.Kind != WireFieldKind.Contents && !DerivedFields(type).ContainsKey(f.Name)).ToList().IndexOf(apart);
        var without = parameters.Where((_, i) => i != index).ToList();
        var passing = arguments.Select((a, i) => i == index ? "default" : a).ToList();
        var lead = without.Count == 0 ? "" : ", ";
        var argList = string.Join(", ", passing);
        var name = PropertyName(type, apart.Name);

        w.Line();
        w.Line($"/// <summary>");
        w.Line($"/// Writes a '{type.Name}' record without its '{apart.Name}' bytes, which must follow it on the wire");
        w.Line($"/// (sent apart, e.g. by a gather write from where they live).{derivedNote}");
        w.Line($"/// </summary>");
        w.Line($"/// <exception cref=\"global::Qmig.Wire.WireWriteException\">A value breaks the spec, or '{apart.Name}' is absent or would not end the record.</exception>");
        w.Open($"public static void WriteWithout{name}(IBufferWriter<byte> writer{lead}{string.Join(", ", without)})");
        w.Line($"var _status = WriteCore(writer.GetSpan(), false, {argList}, out var _written, out var _rule, _apart: true);");
        w.Open("if (_status == OperationStatus.DestinationTooSmall)");
        w.Line($"WriteCore(default, true, {argList}, out var _needed, out _, _apart: true);");
        w.Line($"_status = WriteCore(writer.GetSpan(_needed), false, {argList}, out _written, out _rule, _apart: true);");
        w.Close();
        w.Line("if (_status != OperationStatus.Done) { throw new global::Qmig.Wire.WireWriteException(RecordName, _rule ?? _status.ToString()); }");
        w.Line("writer.Advance(_written);");
        w.Close();
    }

    /// <summary>The names an expression reads itself, not through the instances it reads.</summary>
    private static List<string> NamesRead(Expr expr)
    {
        var names = new List<string>();
        expr.CollectNames(names);
        return names;
    }

    /// <summary>Every expression the writer evaluates: conditions, sizes, counts, switch keys and valid checks.</summary>
    private static IEnumerable<Expr> WriterExpressions(WireType type)
    {
        foreach (var f in type.Fields)
        {
            Expr?[] own = [f.Condition, f.Size, f.RepeatCount, f.SwitchOn, f.Valid?.Eq, f.Valid?.Min, f.Valid?.Max, f.Valid?.Check];
            foreach (var e in own.Concat(f.Valid?.AnyOf.Select(a => (Expr?)a) ?? []))
            {
                if (e is not null)
                {
                    yield return e;
                }
            }
        }
    }

    private void EmitWriterCaseCheck(SourceWriter w, WireType type, WireField f, ExprCompiler compiler, string payload, System.Func<string, string> fail)
    {
        var first = true;
        foreach (var (c, test) in SwitchCaseTests(compiler, f, type))
        {
            var args = CaseArguments(c.TypeName, c.Args, compiler, f, type);
            w.Open($"{(first ? "" : "else ")}if ({test})");
            w.Line($"if ({TypeName(c.TypeName)}.TryRead({payload}, {args}out var _, out int _used, out _) != OperationStatus.Done || _used != {payload}.Length) {fail($"'{f.Name}' is not one valid '{c.TypeName}' record")}");
            w.Close();
            first = false;
        }
    }

    /// <summary>Counts the encoded elements of a repeat, or -1 if they are not whole, valid elements.</summary>
    private void EmitElementCounter(SourceWriter w, WireType type, WireField f)
    {
        w.Line();
        w.Open($"private static int Count{PropertyName(type, f.Name)}(ReadOnlySpan<byte> encoded)");
        if (f.Kind == WireFieldKind.Integer)
        {
            var width = f.Primitive!.Width;
            w.Line($"return encoded.Length % {width} == 0 ? encoded.Length / {width} : -1;");
        }
        else
        {
            w.Line("var count = 0;");
            w.Open("while (!encoded.IsEmpty)");
            w.Line($"if ({TypeName(f.UserType!)}.TryRead(encoded, out var _, out int used, out _) != OperationStatus.Done || used == 0) {{ return -1; }}");
            w.Line("encoded = encoded.Slice(used);");
            w.Line("count++;");
            w.Close();
            w.Line("return count;");
        }

        w.Close();
    }
}
