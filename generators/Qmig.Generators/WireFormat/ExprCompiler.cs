using System;
using System.Collections.Generic;
using System.Globalization;
using Qmig.Generators.Common;
using Qmig.Generators.WireFormat.Expressions;

namespace Qmig.Generators.WireFormat;

internal enum ValueKind
{
    Int,
    Bool,
    Enum,
    Bytes,
    Record,
}

/// <summary>
/// A C# expression and what it is; <see cref="Code"/> is in the value's natural C# type.
/// <see cref="IsUlong"/>: the code is already a <c>ulong</c>, so it needs no cast to take part in arithmetic.
/// </summary>
internal readonly record struct Typed(string Code, ValueKind Kind, string? EnumName = null, bool Signed = false, bool IsUlong = false);

/// <summary>A spec expression that C# cannot express as written (wrong kinds of operands).</summary>
internal sealed class ExprTypeException(string message) : Exception(message);

/// <summary>
/// Turns spec expressions into C#. Integer arithmetic happens in <c>ulong</c>, unchecked, as on the
/// wire; comparisons of two enum values stay enum comparisons. Instances are inlined where used, so
/// a reader can evaluate them before the record exists; on a record, where they are properties,
/// <paramref name="instanceProperty"/> names the property (or local) instead, so each reads as its spec does;
/// where it returns null the instance is inlined.
/// </summary>
internal sealed class ExprCompiler(Func<string, Typed?> resolve, IReadOnlyDictionary<string, WireInstance> instances, Func<string, string> enumType, Func<string, string?>? instanceProperty = null)
{
    private readonly HashSet<string> _expanding = [];

    public Typed? Underscore { get; set; }

    public Typed Compile(Expr expr)
    {
        switch (expr)
        {
            case IntLiteral i:
                return new Typed("0x" + i.Value.ToString("X", CultureInfo.InvariantCulture) + "UL", ValueKind.Int, IsUlong: true);
            case BoolLiteral b:
                return new Typed(b.Value ? "true" : "false", ValueKind.Bool);
            case NameRef { Name: "_" } when Underscore is Typed underscore:
                return underscore;
            case NameRef n:
                return ResolveName(n.Name);
            case EnumRef e:
                return new Typed(enumType(e.EnumName) + "." + Naming.Pascal(e.ValueName), ValueKind.Enum, e.EnumName);
            case LengthOf l:
                var target = Compile(l.Target);
                if (target.Kind != ValueKind.Bytes)
                {
                    throw new ExprTypeException("'.length' applies to byte arrays only");
                }

                return new Typed($"((ulong)({target.Code}).Length)", ValueKind.Int, IsUlong: true);
            case Unary u:
                return CompileUnary(u);
            case Binary b:
                return CompileBinary(b);
            case Conditional c:
                return CompileConditional(c);
            default:
                throw new ExprTypeException("unsupported expression");
        }
    }

    public string AsInt(Typed t) => t.Kind switch
    {
        ValueKind.Int when t.IsUlong => t.Code,
        ValueKind.Int => t.Signed ? $"unchecked((ulong)(long)({t.Code}))" : $"((ulong)({t.Code}))",
        ValueKind.Enum => $"((ulong)({t.Code}))",
        _ => throw new ExprTypeException($"'{t.Code}' is not an integer"),
    };

    public string AsBool(Typed t) => t.Kind == ValueKind.Bool
        ? t.Code
        : throw new ExprTypeException($"a condition must be a boolean expression (use e.g. '!= 0')");

    private Typed ResolveName(string name)
    {
        if (instances.TryGetValue(name, out var instance))
        {
            if (!_expanding.Add(name))
            {
                throw new ExprTypeException($"instance '{name}' depends on itself");
            }

            try
            {
                var value = Compile(instance.Value);
                if (instance.EnumName is not null)
                {
                    value = new Typed($"(({enumType(instance.EnumName)})({AsInt(value)}))", ValueKind.Enum, instance.EnumName);
                }
                else if (value.Kind == ValueKind.Int)
                {
                    value = new Typed(AsInt(value), ValueKind.Int, IsUlong: true);
                }

                // Compiled in full all the same: that checks it and gives its kind.
                return instanceProperty?.Invoke(name) is { } code ? value with { Code = code } : value;
            }
            finally
            {
                _expanding.Remove(name);
            }
        }

        var resolved = resolve(name) ?? throw new ExprTypeException($"'{name}' is not readable here");
        if (resolved.Kind == ValueKind.Record)
        {
            throw new ExprTypeException($"'{name}' is a record or a list and cannot be used in an expression");
        }

        return resolved;
    }

    private Typed CompileUnary(Unary u)
    {
        var operand = Compile(u.Operand);
        return u.Op switch
        {
            "not" => new Typed($"(!{AsBool(operand)})", ValueKind.Bool),
            "-" => new Typed($"unchecked(0UL - {AsInt(operand)})", ValueKind.Int, IsUlong: true),
            "~" => new Typed($"(~{AsInt(operand)})", ValueKind.Int, IsUlong: true),
            _ => throw new ExprTypeException($"unknown operator {u.Op}"),
        };
    }

    private Typed CompileBinary(Binary b)
    {
        var left = Compile(b.Left);
        var right = Compile(b.Right);
        switch (b.Op)
        {
            case "and":
                return new Typed($"({AsBool(left)} && {AsBool(right)})", ValueKind.Bool);
            case "or":
                return new Typed($"({AsBool(left)} || {AsBool(right)})", ValueKind.Bool);
            case "==" or "!=":
                if (left.Kind == ValueKind.Enum && right.Kind == ValueKind.Enum && left.EnumName == right.EnumName)
                {
                    return new Typed($"({left.Code} {b.Op} {right.Code})", ValueKind.Bool);
                }

                if (left.Kind == ValueKind.Bool && right.Kind == ValueKind.Bool)
                {
                    return new Typed($"({left.Code} {b.Op} {right.Code})", ValueKind.Bool);
                }

                return new Typed($"({AsInt(left)} {b.Op} {AsInt(right)})", ValueKind.Bool);
            case "<" or ">" or "<=" or ">=":
                return new Typed($"({AsInt(left)} {b.Op} {AsInt(right)})", ValueKind.Bool);
            case "+" or "-" or "*":
                return new Typed($"unchecked({AsInt(left)} {b.Op} {AsInt(right)})", ValueKind.Int, IsUlong: true);
            case "/":
                return new Typed($"global::Qmig.Wire.WireMath.Div({AsInt(left)}, {AsInt(right)})", ValueKind.Int, IsUlong: true);
            case "%":
                return new Typed($"global::Qmig.Wire.WireMath.Mod({AsInt(left)}, {AsInt(right)})", ValueKind.Int, IsUlong: true);
            case "&" or "|" or "^":
                if (left.Kind == ValueKind.Bool && right.Kind == ValueKind.Bool)
                {
                    return new Typed($"({left.Code} {b.Op} {right.Code})", ValueKind.Bool);
                }

                return new Typed($"({AsInt(left)} {b.Op} {AsInt(right)})", ValueKind.Int, IsUlong: true);
            case "<<" or ">>":
                return new Typed($"unchecked({AsInt(left)} {b.Op} (int)({AsInt(right)} & 63UL))", ValueKind.Int, IsUlong: true);
            default:
                throw new ExprTypeException($"unknown operator {b.Op}");
        }
    }

    private Typed CompileConditional(Conditional c)
    {
        var condition = AsBool(Compile(c.Condition));
        var whenTrue = Compile(c.WhenTrue);
        var whenFalse = Compile(c.WhenFalse);
        if (whenTrue.Kind == ValueKind.Bool && whenFalse.Kind == ValueKind.Bool)
        {
            return new Typed($"({condition} ? {whenTrue.Code} : {whenFalse.Code})", ValueKind.Bool);
        }

        if (whenTrue.Kind == ValueKind.Enum && whenFalse.Kind == ValueKind.Enum && whenTrue.EnumName == whenFalse.EnumName)
        {
            return new Typed($"({condition} ? {whenTrue.Code} : {whenFalse.Code})", ValueKind.Enum, whenTrue.EnumName);
        }

        return new Typed($"({condition} ? {AsInt(whenTrue)} : {AsInt(whenFalse)})", ValueKind.Int, IsUlong: true);
    }
}
