using System.Collections.Generic;
using System.Linq;
using Qmig.Generators.Common;
using Qmig.Generators.WireFormat.Expressions;

namespace Qmig.Generators.WireFormat;

/// <summary>
/// Checks what the parser cannot see on its own: that every type, enum and name a field uses is
/// defined, and defined before it is read (a size can only name an earlier field).
/// </summary>
public static class WireChecker
{
    public static WireSpec Check(WireSpec spec)
    {
        var diagnostics = new List<SpecDiagnostic>(spec.Diagnostics);
        var types = new Dictionary<string, WireType>();
        foreach (var type in spec.Types)
        {
            if (types.ContainsKey(type.Name))
            {
                diagnostics.Add(SpecDiagnostic.Create("QMIG1005", type.Location, "type " + type.Name));
            }

            types[type.Name] = type;
        }

        var enums = new Dictionary<string, WireEnum>();
        foreach (var e in spec.Enums)
        {
            if (enums.ContainsKey(e.Name))
            {
                diagnostics.Add(SpecDiagnostic.Create("QMIG1005", e.Location, "enum " + e.Name));
            }

            enums[e.Name] = e;
        }

        foreach (var type in spec.Types)
        {
            CheckType(type, types, enums, diagnostics);
        }

        return spec with { Diagnostics = diagnostics.ToEquatableArray() };
    }

    private static void CheckType(WireType type, Dictionary<string, WireType> types, Dictionary<string, WireEnum> enums, List<SpecDiagnostic> diagnostics)
    {
        var visible = new HashSet<string>(type.Params.Select(p => p.Name));
        var instances = type.Instances.ToDictionary(i => i.Name, i => i);
        var allFields = new HashSet<string>(type.Fields.Select(f => f.Name));
        var declared = new HashSet<string>(visible);

        void CheckExpr(Expr? expr, SpecLocation at, string owner, HashSet<string> names, string? underscore = null)
        {
            if (expr is null)
            {
                return;
            }

            foreach (var name in expr.NamesThroughInstances(instances))
            {
                if (name == "_" && underscore is not null)
                {
                    continue;
                }

                if (!names.Contains(name))
                {
                    diagnostics.Add(SpecDiagnostic.Create("QMIG1003", at, owner, name, type.Name));
                }
            }

            foreach (var enumRef in EnumRefs(expr))
            {
                if (!enums.TryGetValue(enumRef.EnumName, out var e))
                {
                    diagnostics.Add(SpecDiagnostic.Create("QMIG1004", at, enumRef.EnumName));
                }
                else if (!e.Values.Any(v => v.Name == enumRef.ValueName))
                {
                    diagnostics.Add(SpecDiagnostic.Create("QMIG1003", at, owner, enumRef.EnumName + "::" + enumRef.ValueName, type.Name));
                }
            }
        }

        foreach (var field in type.Fields)
        {
            if (!declared.Add(field.Name))
            {
                diagnostics.Add(SpecDiagnostic.Create("QMIG1005", field.Location, field.Name));
            }

            CheckExpr(field.Condition, field.At.Condition, field.Name, visible);
            CheckExpr(field.Size, field.At.Size, field.Name, visible);
            CheckExpr(field.RepeatCount, field.At.RepeatCount, field.Name, visible);
            CheckExpr(field.SwitchOn, field.At.Type, field.Name, visible);
            foreach (var arg in field.UserTypeArgs)
            {
                CheckExpr(arg, field.At.Type, field.Name, visible);
            }

            if (field.EnumName is not null && !enums.ContainsKey(field.EnumName))
            {
                diagnostics.Add(SpecDiagnostic.Create("QMIG1004", field.At.Enum, field.EnumName));
            }

            if (field.UserType is not null)
            {
                CheckInvocation(field.UserType, field.UserTypeArgs.Count, field.At.Type, types, diagnostics);
                if (field.Repeat != WireRepeat.None && types.TryGetValue(field.UserType, out var element) && element.Params.Count > 0)
                {
                    diagnostics.Add(SpecDiagnostic.Create("QMIG0004", field.Location, "repeat of a type with params", ""));
                }
            }

            foreach (var c in field.Cases)
            {
                CheckExpr(c.Key, c.Location, field.Name, visible);
                CheckInvocation(c.TypeName, c.Args.Count, c.Location, types, diagnostics);
                foreach (var arg in c.Args)
                {
                    CheckExpr(arg, c.Location, field.Name, visible);
                }
            }

            // The field itself is visible to its own valid check (as '_') and to everything after it.
            visible.Add(field.Name);
            if (field.Valid is WireValid valid)
            {
                foreach (var e in new[] { valid.Eq, valid.Min, valid.Max, valid.Check }.Concat(valid.AnyOf))
                {
                    CheckExpr(e, field.At.Valid, field.Name, visible, underscore: field.Name);
                }

                if (field.Kind != WireFieldKind.Integer)
                {
                    diagnostics.Add(SpecDiagnostic.Create("QMIG0004", field.Location, "valid on a non-integer", " (use contents for fixed bytes)"));
                }
            }
        }

        var everything = new HashSet<string>(visible.Concat(allFields).Concat(instances.Keys));
        foreach (var instance in type.Instances)
        {
            if (!declared.Add(instance.Name))
            {
                diagnostics.Add(SpecDiagnostic.Create("QMIG1005", instance.Location, instance.Name));
            }

            CheckExpr(instance.Value, instance.Location, instance.Name, everything);
            if (instance.EnumName is not null && !enums.ContainsKey(instance.EnumName))
            {
                diagnostics.Add(SpecDiagnostic.Create("QMIG1004", instance.Location, instance.EnumName));
            }

            if (ReachesItself(instance.Name, instance.Value, instances, new HashSet<string>()))
            {
                diagnostics.Add(SpecDiagnostic.Create("QMIG1002", instance.Location, instance.Name, "the instance depends on itself"));
            }
        }
    }

    private static void CheckInvocation(string typeName, int argCount, SpecLocation at, Dictionary<string, WireType> types, List<SpecDiagnostic> diagnostics)
    {
        if (!types.TryGetValue(typeName, out var target))
        {
            diagnostics.Add(SpecDiagnostic.Create("QMIG1001", at, typeName));
        }
        else if (target.Params.Count != argCount)
        {
            diagnostics.Add(SpecDiagnostic.Create("QMIG1002", at, typeName,
                $"'{typeName}' takes {target.Params.Count} argument(s), {argCount} given"));
        }
    }

    private static bool ReachesItself(string target, Expr expr, Dictionary<string, WireInstance> instances, HashSet<string> seen)
    {
        var names = new List<string>();
        expr.CollectNames(names);
        foreach (var name in names)
        {
            if (name == target)
            {
                return true;
            }

            if (instances.TryGetValue(name, out var inner) && seen.Add(name) && ReachesItself(target, inner.Value, instances, seen))
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<EnumRef> EnumRefs(Expr expr) => expr switch
    {
        EnumRef e => [e],
        LengthOf l => EnumRefs(l.Target),
        Unary u => EnumRefs(u.Operand),
        Binary b => EnumRefs(b.Left).Concat(EnumRefs(b.Right)),
        Conditional c => EnumRefs(c.Condition).Concat(EnumRefs(c.WhenTrue)).Concat(EnumRefs(c.WhenFalse)),
        _ => [],
    };
}
