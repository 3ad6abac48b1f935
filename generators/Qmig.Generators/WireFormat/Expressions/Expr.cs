using Qmig.Generators.Common;

namespace Qmig.Generators.WireFormat.Expressions;

// The Kaitai expression subset as an equatable tree (see spec/README.md for the grammar).

public abstract record Expr;

public sealed record IntLiteral(ulong Value) : Expr;

public sealed record BoolLiteral(bool Value) : Expr;

/// <summary>A seq field, param or instance of the enclosing type; <c>_</c> inside <c>valid: expr</c>.</summary>
public sealed record NameRef(string Name) : Expr;

/// <summary><c>enum_name::value</c>.</summary>
public sealed record EnumRef(string EnumName, string ValueName) : Expr;

/// <summary><c>field.length</c> or <c>field.size</c> of a byte array.</summary>
public sealed record LengthOf(Expr Target) : Expr;

public sealed record Unary(string Op, Expr Operand) : Expr;

public sealed record Binary(string Op, Expr Left, Expr Right) : Expr;

public sealed record Conditional(Expr Condition, Expr WhenTrue, Expr WhenFalse) : Expr;

public static class ExprExtensions
{
    /// <summary>Every name the expression reads, so the checker can tell undefined ones.</summary>
    public static void CollectNames(this Expr expr, System.Collections.Generic.List<string> names)
    {
        switch (expr)
        {
            case NameRef n: names.Add(n.Name); break;
            case LengthOf l: l.Target.CollectNames(names); break;
            case Unary u: u.Operand.CollectNames(names); break;
            case Binary b: b.Left.CollectNames(names); b.Right.CollectNames(names); break;
            case Conditional c: c.Condition.CollectNames(names); c.WhenTrue.CollectNames(names); c.WhenFalse.CollectNames(names); break;
        }
    }

    /// <summary>The seq/param names an expression reads, looking through the instances it uses (each once).</summary>
    public static System.Collections.Generic.IEnumerable<string> NamesThroughInstances(this Expr expr,
        System.Collections.Generic.IReadOnlyDictionary<string, WireInstance> instances, System.Collections.Generic.HashSet<string>? seen = null)
    {
        seen ??= [];
        var names = new System.Collections.Generic.List<string>();
        expr.CollectNames(names);
        foreach (var name in names)
        {
            if (instances.TryGetValue(name, out var instance))
            {
                if (seen.Add(name))
                {
                    foreach (var inner in instance.Value.NamesThroughInstances(instances, seen))
                    {
                        yield return inner;
                    }
                }
            }
            else
            {
                yield return name;
            }
        }
    }

    public static EquatableArray<Expr> NoExprs => EquatableArray<Expr>.Empty;
}
