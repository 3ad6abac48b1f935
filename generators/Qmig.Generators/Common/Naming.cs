using System.Text;

namespace Qmig.Generators.Common;

/// <summary>Kaitai/YAML ids are lower_snake; C# names are PascalCase.</summary>
public static class Naming
{
    public static string Pascal(string snake)
    {
        var builder = new StringBuilder(snake.Length);
        var upper = true;
        foreach (var c in snake)
        {
            if (c == '_' || c == '-' || c == ' ' || c == '.')
            {
                upper = true;
                continue;
            }

            builder.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }

        if (builder.Length > 0 && char.IsDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        return builder.ToString();
    }

    public static string Camel(string snake)
    {
        var pascal = Pascal(snake);
        if (pascal.Length == 0)
        {
            return pascal;
        }

        var camel = char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);
        return IsKeyword(camel) ? "@" + camel : camel;
    }

    private static bool IsKeyword(string name) => name switch
    {
        "base" or "bool" or "byte" or "case" or "checked" or "class" or "const" or "default" or "event" or "fixed"
            or "in" or "int" or "internal" or "is" or "lock" or "long" or "namespace" or "object" or "operator"
            or "out" or "params" or "ref" or "short" or "sizeof" or "string" or "struct" or "switch" or "this"
            or "throw" or "typeof" or "uint" or "ulong" or "unchecked" or "ushort" or "using" or "value" or "version"
            or "virtual" or "void" or "volatile" or "while" or "char" or "float" or "double" or "decimal" or "new"
            or "null" or "true" or "false" or "return" or "static" or "void" or "if" or "else" or "for" or "foreach"
            or "do" or "goto" or "break" or "continue" or "try" or "catch" or "finally" or "enum" or "interface"
            or "public" or "private" or "protected" or "abstract" or "sealed" or "override" or "readonly" or "extern"
            or "implicit" or "explicit" or "delegate" or "sbyte" or "stackalloc" or "as" => true,
        _ => false,
    };
}
