using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Qmig.Generators.Common;
using Qmig.Generators.WireFormat.Expressions;
using YamlDotNet.RepresentationModel;

namespace Qmig.Generators.WireFormat;

/// <summary>
/// Reads a .ksy file into the <see cref="WireSpec"/> model. It checks syntax only: which keys are
/// allowed, that expressions parse, that values have the right shape. Names are checked later by
/// <see cref="WireChecker"/>. Every problem is a diagnostic at the offending node.
/// </summary>
public sealed class KsyParser
{
    private static readonly Regex PrimitivePattern = new("^([us])([1248])(be|le)?$", RegexOptions.CultureInvariant);
    private static readonly Regex TypeInvocationPattern = new(@"^([a-z][a-z0-9_]*)\s*(?:\((.*)\))?$", RegexOptions.CultureInvariant);

    private static readonly HashSet<string> FileKeys = ["meta", "doc", "doc-ref", "seq", "types", "enums", "instances", "params"];
    private static readonly HashSet<string> MetaKeys = ["id", "title", "endian", "file-extension", "license", "ks-version", "xref", "-qmig-namespace", "-qmig-flags", "application", "tags"];
    private static readonly HashSet<string> TypeKeys = ["doc", "doc-ref", "seq", "types", "instances", "params", "enums", "-qmig-sized"];
    private static readonly HashSet<string> AttributeKeys = ["id", "type", "size", "size-eos", "contents", "enum", "if", "valid", "repeat", "repeat-expr", "doc", "doc-ref", "-orig-id", "-qmig-sent-apart"];
    private static readonly HashSet<string> InstanceKeys = ["value", "enum", "doc", "doc-ref"];
    private static readonly HashSet<string> ParamKeys = ["id", "type", "doc", "doc-ref"];
    private static readonly HashSet<string> EnumValueKeys = ["id", "doc", "doc-ref", "-orig-id"];
    private static readonly HashSet<string> ValidKeys = ["eq", "min", "max", "any-of", "expr"];

    private readonly string _path;
    private readonly List<SpecDiagnostic> _diagnostics = [];
    private readonly List<WireType> _types = [];
    private readonly List<WireEnum> _enums = [];
    private bool _bigEndian = true;
    private readonly HashSet<string> _flagEnums = [];

    private KsyParser(string path) => _path = path;

    public static WireSpec Parse(string path, string text)
    {
        var parser = new KsyParser(path);
        return parser.ParseFile(text);
    }

    private WireSpec ParseFile(string text)
    {
        var root = YamlSpecLoader.Load(_path, text, out var loadError);
        if (root is null)
        {
            return new WireSpec(_path, "", "", EquatableArray<WireType>.Empty, EquatableArray<WireEnum>.Empty,
                new[] { loadError! }.ToEquatableArray());
        }

        CheckKeys(root, FileKeys, "file");
        var fileId = "";
        // Empty: the consuming project's root namespace, filled in by the generator.
        var ns = "";
        if (Child(root, "meta") is YamlMappingNode meta)
        {
            CheckKeys(meta, MetaKeys, "meta");
            fileId = Scalar(meta, "id") ?? "";
            ns = Scalar(meta, "-qmig-namespace") ?? ns;
            var endian = Scalar(meta, "endian");
            if (endian is not null && endian != "be" && endian != "le")
            {
                Report("QMIG0004", Child(meta, "endian")!, $"endian: {endian}", " (use be or le)");
            }

            _bigEndian = endian != "le";
            if (Child(meta, "-qmig-flags") is YamlNode flagsNode)
            {
                foreach (var item in Items(flagsNode, "-qmig-flags"))
                {
                    _flagEnums.Add((item as YamlScalarNode)?.Value ?? "");
                }
            }
        }
        else
        {
            Report("QMIG0005", root, "the file", "meta");
        }

        if (fileId.Length == 0)
        {
            Report("QMIG0005", Child(root, "meta") ?? root, "meta", "id");
            fileId = "unnamed";
        }

        ParseType(fileId, root, isFileRoot: true);
        return new WireSpec(_path, fileId, ns, _types.ToEquatableArray(), _enums.ToEquatableArray(), _diagnostics.ToEquatableArray());
    }

    private void ParseType(string name, YamlMappingNode node, bool isFileRoot)
    {
        if (!isFileRoot)
        {
            CheckKeys(node, TypeKeys, "type");
        }

        var parameters = new List<WireParam>();
        if (Child(node, "params") is YamlNode paramsNode)
        {
            foreach (var item in Items(paramsNode, "params"))
            {
                if (item is not YamlMappingNode p)
                {
                    Report("QMIG0003", item, "a params entry must be a mapping");
                    continue;
                }

                CheckKeys(p, ParamKeys, "params entry");
                var id = RequiredScalar(p, "id", "params entry");
                var typeText = RequiredScalar(p, "type", $"param '{id}'");
                if (id is null || typeText is null)
                {
                    continue;
                }

                var primitive = typeText == "bool" ? WirePrimitive.Bool : ParsePrimitive(typeText);
                if (primitive is null)
                {
                    Report("QMIG0004", Child(p, "type")!, $"param type '{typeText}'", " (params are integers or bool)");
                    continue;
                }

                parameters.Add(new WireParam(id, primitive, Scalar(p, "doc"), At(p)));
            }
        }

        var fields = new List<WireField>();
        if (Child(node, "seq") is YamlNode seqNode)
        {
            foreach (var item in Items(seqNode, "seq"))
            {
                if (item is YamlMappingNode attribute)
                {
                    var field = ParseAttribute(attribute);
                    if (field is not null)
                    {
                        fields.Add(field);
                    }
                }
                else
                {
                    Report("QMIG0003", item, "a seq entry must be a mapping");
                }
            }
        }

        var instances = new List<WireInstance>();
        if (Child(node, "instances") is YamlMappingNode instancesNode)
        {
            foreach (var entry in instancesNode.Children)
            {
                var id = ((YamlScalarNode)entry.Key).Value ?? "";
                if (entry.Value is not YamlMappingNode inst)
                {
                    Report("QMIG0003", entry.Value, $"instance '{id}' must be a mapping");
                    continue;
                }

                CheckKeys(inst, InstanceKeys, "instance", positionalHint: true);
                var valueNode = Child(inst, "value");
                if (valueNode is null)
                {
                    Report("QMIG0004", inst, "positional instances", " (only 'value' instances)");
                    continue;
                }

                var value = ParseExpr(valueNode);
                if (value is not null)
                {
                    instances.Add(new WireInstance(id, Scalar(inst, "doc"), value, Scalar(inst, "enum"), At(entry.Key)));
                }
            }
        }

        if (Child(node, "enums") is YamlMappingNode enumsNode)
        {
            ParseEnums(enumsNode);
        }

        if (fields.Where(f => f.SentApart).Skip(1).FirstOrDefault() is { } second)
        {
            _diagnostics.Add(SpecDiagnostic.Create("QMIG0004", second.Location, $"a second -qmig-sent-apart in '{name}' ('{second.Name}')", " (a record sends at most one field apart)"));
            fields = fields.Select(f => f == second ? f with { SentApart = false } : f).ToList();
        }

        var sized = Scalar(node, "-qmig-sized") == "true"
            || fields.Any(f => f.SizeEos || f.Repeat == WireRepeat.Eos);

        // A file's top-level type is a container unless it has a seq of its own.
        if (!isFileRoot || fields.Count > 0)
        {
            _types.Add(new WireType(name, Scalar(node, "doc"), sized, parameters.ToEquatableArray(), fields.ToEquatableArray(),
                instances.ToEquatableArray(), At(node)));
        }

        if (Child(node, "types") is YamlMappingNode typesNode)
        {
            foreach (var entry in typesNode.Children)
            {
                var typeName = ((YamlScalarNode)entry.Key).Value ?? "";
                if (entry.Value is YamlMappingNode typeNode)
                {
                    ParseType(typeName, typeNode, isFileRoot: false);
                }
                else
                {
                    Report("QMIG0003", entry.Value, $"type '{typeName}' must be a mapping");
                }
            }
        }
    }

    private WireField? ParseAttribute(YamlMappingNode node)
    {
        CheckKeys(node, AttributeKeys, "seq attribute");
        var id = RequiredScalar(node, "id", "seq attribute");
        if (id is null)
        {
            return null;
        }

        var kind = WireFieldKind.Bytes;
        WirePrimitive? primitive = null;
        string? userType = null;
        var userArgs = EquatableArray<Expr>.Empty;
        Expr? switchOn = null;
        var cases = new List<WireSwitchCase>();
        var contents = EquatableArray<byte>.Empty;

        var typeNode = Child(node, "type");
        var contentsNode = Child(node, "contents");
        if (contentsNode is not null)
        {
            kind = WireFieldKind.Contents;
            contents = ParseContents(contentsNode).ToEquatableArray();
        }
        else if (typeNode is YamlScalarNode typeScalar)
        {
            var typeText = typeScalar.Value ?? "";
            primitive = ParsePrimitive(typeText);
            if (primitive is not null)
            {
                kind = WireFieldKind.Integer;
            }
            else if (typeText is "str" or "strz" or "f4" or "f8" or "f4be" or "f8be" or "f4le" or "f8le" || typeText.StartsWith("b", StringComparison.Ordinal) && typeText.Length > 1 && char.IsDigit(typeText[1]))
            {
                Report("QMIG0004", typeNode, $"type: {typeText}", " (use byte arrays and integers)");
                return null;
            }
            else
            {
                var match = TypeInvocationPattern.Match(typeText);
                if (!match.Success)
                {
                    Report("QMIG1001", typeNode, typeText);
                    return null;
                }

                kind = WireFieldKind.UserType;
                userType = match.Groups[1].Value;
                userArgs = ParseArguments(match.Groups[2].Value, typeNode).ToEquatableArray();
            }
        }
        else if (typeNode is YamlMappingNode switchNode)
        {
            kind = WireFieldKind.Switch;
            foreach (var key in switchNode.Children.Keys)
            {
                var keyText = ((YamlScalarNode)key).Value;
                if (keyText is not ("switch-on" or "cases"))
                {
                    Report("QMIG0004", key, $"type.{keyText}", "");
                }
            }

            var onNode = Child(switchNode, "switch-on");
            if (onNode is null)
            {
                Report("QMIG0005", switchNode, "type", "switch-on");
                return null;
            }

            switchOn = ParseExpr(onNode);
            if (Child(switchNode, "cases") is YamlMappingNode casesNode)
            {
                foreach (var entry in casesNode.Children)
                {
                    var keyText = ((YamlScalarNode)entry.Key).Value ?? "";
                    var key = keyText == "_" ? null : ParseExpr(entry.Key);
                    if (keyText != "_" && key is null)
                    {
                        continue;
                    }

                    var caseText = (entry.Value as YamlScalarNode)?.Value ?? "";
                    var match = TypeInvocationPattern.Match(caseText);
                    if (!match.Success || ParsePrimitive(caseText) is not null)
                    {
                        Report("QMIG1006", entry.Value, $"A switch case must name a user type, not '{caseText}'");
                        continue;
                    }

                    cases.Add(new WireSwitchCase(key, match.Groups[1].Value,
                        ParseArguments(match.Groups[2].Value, entry.Value).ToEquatableArray(), At(entry.Value)));
                }
            }
            else
            {
                Report("QMIG0005", switchNode, "switch type", "cases");
            }
        }
        else if (typeNode is not null)
        {
            Report("QMIG0003", typeNode, "'type' must be a type name or a switch-on mapping");
            return null;
        }

        var sizeNode = Child(node, "size");
        var size = sizeNode is null ? null : ParseExpr(sizeNode);
        var sizeEos = Scalar(node, "size-eos") == "true";
        if (kind == WireFieldKind.Bytes && size is null && !sizeEos)
        {
            if (sizeNode is null)
            {
                Report("QMIG0005", node, $"byte array '{id}'", "size");
            }

            return null;
        }

        if (kind == WireFieldKind.Integer && (sizeNode is not null || sizeEos))
        {
            Report("QMIG0004", sizeNode ?? node, "size on an integer", "");
        }

        if (kind == WireFieldKind.Switch && size is null)
        {
            var switchKey = ((YamlMappingNode)typeNode!).Children.Keys.FirstOrDefault(k => (k as YamlScalarNode)?.Value == "switch-on") ?? typeNode!;
            Report("QMIG1006", switchKey, $"switch-on in '{id}' needs a size: the generator reads switch payloads as sized slices");
        }

        var enumName = Scalar(node, "enum");
        if (enumName is not null && kind != WireFieldKind.Integer)
        {
            Report("QMIG0004", Child(node, "enum")!, "enum on a non-integer", "");
        }

        var condition = Child(node, "if") is YamlNode ifNode ? ParseExpr(ifNode) : null;
        var valid = Child(node, "valid") is YamlNode validNode ? ParseValid(validNode) : null;

        var repeat = WireRepeat.None;
        Expr? repeatCount = null;
        if (Child(node, "repeat") is YamlNode repeatNode)
        {
            switch ((repeatNode as YamlScalarNode)?.Value)
            {
                case "eos":
                    repeat = WireRepeat.Eos;
                    break;
                case "expr":
                    repeat = WireRepeat.Expr;
                    if (Child(node, "repeat-expr") is YamlNode countNode)
                    {
                        repeatCount = ParseExpr(countNode);
                    }
                    else
                    {
                        Report("QMIG0005", node, $"repeat of '{id}'", "repeat-expr");
                    }

                    break;
                default:
                    Report("QMIG0004", repeatNode, $"repeat: {(repeatNode as YamlScalarNode)?.Value}", " (use eos or expr)");
                    break;
            }

            if (repeat != WireRepeat.None && kind is not (WireFieldKind.Integer or WireFieldKind.UserType))
            {
                Report("QMIG0004", repeatNode, "repeat of byte arrays or switches", " (repeat integers or user types)");
            }

            if (repeat != WireRepeat.None && size is not null)
            {
                Report("QMIG0004", repeatNode, "repeat together with size", "");
            }
        }

        var sentApart = Scalar(node, "-qmig-sent-apart") == "true";
        if (sentApart && (kind != WireFieldKind.Bytes || size is null || repeat != WireRepeat.None))
        {
            Report("QMIG0004", Child(node, "-qmig-sent-apart")!, $"-qmig-sent-apart on '{id}'", " (only a byte array with a size can be sent apart)");
            sentApart = false;
        }

        var whole = At(node);
        SpecLocation AtKey(string key) => Child(node, key) is YamlNode value ? At(value) : whole;
        var locations = new WireFieldLocations(AtKey("type"), AtKey("size"), AtKey("if"), AtKey("repeat-expr"), AtKey("enum"), AtKey("valid"));
        return new WireField(id, Scalar(node, "doc"), kind, primitive, enumName, size, sizeEos, contents, userType, userArgs,
            switchOn, cases.ToEquatableArray(), condition, valid, repeat, repeatCount, sentApart, whole, locations);
    }

    private void ParseEnums(YamlMappingNode enumsNode)
    {
        foreach (var entry in enumsNode.Children)
        {
            var enumName = ((YamlScalarNode)entry.Key).Value ?? "";
            if (entry.Value is not YamlMappingNode body)
            {
                Report("QMIG0003", entry.Value, $"enum '{enumName}' must be a mapping of value: name");
                continue;
            }

            var isFlags = _flagEnums.Contains(enumName);
            var values = new List<WireEnumValue>();
            foreach (var valueEntry in body.Children)
            {
                var keyText = ((YamlScalarNode)valueEntry.Key).Value ?? "";
                if (!TryParseInteger(keyText, out var number))
                {
                    Report("QMIG0003", valueEntry.Key, $"enum key '{keyText}' must be an integer");
                    continue;
                }

                switch (valueEntry.Value)
                {
                    case YamlScalarNode scalar:
                        values.Add(new WireEnumValue(scalar.Value ?? "", number, null, null, At(valueEntry.Key)));
                        break;
                    case YamlMappingNode verbose:
                        CheckKeys(verbose, EnumValueKeys, "enum value");
                        var id = RequiredScalar(verbose, "id", "enum value");
                        if (id is not null)
                        {
                            values.Add(new WireEnumValue(id, number, Scalar(verbose, "doc"), Scalar(verbose, "-orig-id"), At(valueEntry.Key)));
                        }

                        break;
                    default:
                        Report("QMIG0003", valueEntry.Value, "an enum value must be a name or a mapping");
                        break;
                }
            }

            _enums.Add(new WireEnum(enumName, null, isFlags, values.ToEquatableArray(), At(entry.Key)));
        }
    }

    private WireValid? ParseValid(YamlNode node)
    {
        if (node is YamlScalarNode scalar)
        {
            var eq = ParseExpr(scalar);
            return eq is null ? null : new WireValid(eq, null, null, EquatableArray<Expr>.Empty, null, "valid: " + scalar.Value);
        }

        if (node is not YamlMappingNode map)
        {
            Report("QMIG0003", node, "'valid' must be a value or a mapping");
            return null;
        }

        CheckKeys(map, ValidKeys, "valid");
        var anyOf = new List<Expr>();
        if (Child(map, "any-of") is YamlNode anyOfNode)
        {
            foreach (var item in Items(anyOfNode, "any-of"))
            {
                if (ParseExpr(item) is Expr e)
                {
                    anyOf.Add(e);
                }
            }
        }

        var text = "valid: " + string.Join(", ", map.Children.Select(c => ((YamlScalarNode)c.Key).Value + " " + Describe(c.Value)));
        return new WireValid(
            Child(map, "eq") is YamlNode eqNode ? ParseExpr(eqNode) : null,
            Child(map, "min") is YamlNode minNode ? ParseExpr(minNode) : null,
            Child(map, "max") is YamlNode maxNode ? ParseExpr(maxNode) : null,
            anyOf.ToEquatableArray(),
            Child(map, "expr") is YamlNode exprNode ? ParseExpr(exprNode) : null,
            text);
    }

    private static string Describe(YamlNode node) => node switch
    {
        YamlScalarNode s => s.Value ?? "",
        YamlSequenceNode seq => "[" + string.Join(", ", seq.Children.Select(Describe)) + "]",
        _ => "{…}",
    };

    private List<byte> ParseContents(YamlNode node)
    {
        var bytes = new List<byte>();
        void Add(YamlNode item)
        {
            var text = (item as YamlScalarNode)?.Value ?? "";
            var quoted = item is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted };
            if (!quoted && TryParseInteger(text, out var value))
            {
                if (value is < 0 or > 255)
                {
                    Report("QMIG0003", item, $"contents byte {text} is out of range");
                    return;
                }

                bytes.Add((byte)value);
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(text));
            }
        }

        if (node is YamlSequenceNode seq)
        {
            foreach (var item in seq.Children)
            {
                Add(item);
            }
        }
        else
        {
            Add(node);
        }

        return bytes;
    }

    private List<Expr> ParseArguments(string text, YamlNode node)
    {
        var args = new List<Expr>();
        if (text.Trim().Length == 0)
        {
            return args;
        }

        var depth = 0;
        var start = 0;
        for (var i = 0; i <= text.Length; i++)
        {
            if (i == text.Length || (text[i] == ',' && depth == 0))
            {
                var part = text.Substring(start, i - start).Trim();
                var expr = ExprParser.TryParse(part, out var error);
                if (expr is null)
                {
                    Report("QMIG1002", node, part, error ?? "");
                }
                else
                {
                    args.Add(expr);
                }

                start = i + 1;
            }
            else if (text[i] == '(')
            {
                depth++;
            }
            else if (text[i] == ')')
            {
                depth--;
            }
        }

        return args;
    }

    private Expr? ParseExpr(YamlNode node)
    {
        if (node is not YamlScalarNode scalar)
        {
            Report("QMIG0003", node, "expected an expression");
            return null;
        }

        var text = scalar.Value ?? "";
        var expr = ExprParser.TryParse(text, out var error);
        if (expr is null)
        {
            Report("QMIG1002", node, text, error ?? "");
        }

        return expr;
    }

    private static WirePrimitive? ParsePrimitive(string text, bool defaultBigEndian)
    {
        var match = PrimitivePattern.Match(text);
        if (!match.Success)
        {
            return null;
        }

        var width = match.Groups[2].Value[0] - '0';
        var endian = match.Groups[3].Value;
        return new WirePrimitive(width, match.Groups[1].Value == "s", endian.Length == 0 ? defaultBigEndian : endian == "be", false);
    }

    private WirePrimitive? ParsePrimitive(string text) => ParsePrimitive(text, _bigEndian);

    private static bool TryParseInteger(string text, out long value)
    {
        var digits = text.Replace("_", string.Empty);
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return long.TryParse(digits.Substring(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }

        return long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    private void CheckKeys(YamlMappingNode node, HashSet<string> allowed, string where, bool positionalHint = false)
    {
        foreach (var key in node.Children.Keys)
        {
            var text = (key as YamlScalarNode)?.Value ?? "";
            if (allowed.Contains(text))
            {
                continue;
            }

            // Kaitai ignores keys that start with '-'; so do we, except our own misspelled ones.
            if (text.StartsWith("-", StringComparison.Ordinal) && !text.StartsWith("-qmig-", StringComparison.Ordinal))
            {
                continue;
            }

            var hint = positionalHint && text is "pos" or "io" ? " (only 'value' instances)" : $" in a {where}";
            Report("QMIG0004", key, text, hint);
        }
    }

    private IEnumerable<YamlNode> Items(YamlNode node, string what)
    {
        if (node is YamlSequenceNode seq)
        {
            return seq.Children;
        }

        Report("QMIG0003", node, $"'{what}' must be a list");
        return [];
    }

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static string? Scalar(YamlMappingNode node, string key) => (Child(node, key) as YamlScalarNode)?.Value;

    private string? RequiredScalar(YamlMappingNode node, string key, string owner)
    {
        var value = Scalar(node, key);
        if (value is null)
        {
            Report("QMIG0005", node, owner, key);
        }

        return value;
    }

    private SpecLocation At(YamlNode node) => YamlSpecLoader.At(_path, node);

    private void Report(string id, YamlNode node, params string[] arguments) =>
        _diagnostics.Add(SpecDiagnostic.Create(id, At(node), arguments));
}
