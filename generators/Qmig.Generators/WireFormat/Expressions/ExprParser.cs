using System;
using System.Collections.Generic;
using System.Globalization;

namespace Qmig.Generators.WireFormat.Expressions;

/// <summary>
/// Parses the Kaitai expression subset with Python's precedence, which Kaitai follows: bit operators
/// bind tighter than comparisons, so <c>flags &amp; 0x20 != 0</c> means <c>(flags &amp; 0x20) != 0</c>.
/// </summary>
public sealed class ExprParser
{
    private readonly string _text;
    private readonly List<Token> _tokens;
    private int _next;

    private ExprParser(string text)
    {
        _text = text;
        _tokens = Tokenize(text);
    }

    /// <summary>Parses <paramref name="text"/>; on failure returns null and says why.</summary>
    public static Expr? TryParse(string text, out string? error)
    {
        try
        {
            var parser = new ExprParser(text);
            var expr = parser.ParseConditional();
            if (parser.Peek.Kind != TokenKind.End)
            {
                throw new FormatException($"unexpected '{parser.Peek.Text}' at column {parser.Peek.Position + 1}");
            }

            error = null;
            return expr;
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    private Token Peek => _tokens[_next];

    private Token Take() => _tokens[_next++];

    private bool TakeIf(string text)
    {
        if (Peek.Kind is TokenKind.Operator or TokenKind.Word && Peek.Text == text)
        {
            _next++;
            return true;
        }

        return false;
    }

    private void Expect(string text)
    {
        if (!TakeIf(text))
        {
            throw new FormatException($"expected '{text}' at column {Peek.Position + 1} of '{_text}'");
        }
    }

    private Expr ParseConditional()
    {
        var condition = ParseOr();
        if (!TakeIf("?"))
        {
            return condition;
        }

        var whenTrue = ParseConditional();
        Expect(":");
        var whenFalse = ParseConditional();
        return new Conditional(condition, whenTrue, whenFalse);
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (TakeIf("or"))
        {
            left = new Binary("or", left, ParseAnd());
        }

        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (TakeIf("and"))
        {
            left = new Binary("and", left, ParseNot());
        }

        return left;
    }

    private Expr ParseNot() => TakeIf("not") ? new Unary("not", ParseNot()) : ParseComparison();

    private Expr ParseComparison()
    {
        var left = ParseBinary(0);
        foreach (var op in new[] { "==", "!=", "<=", ">=", "<", ">" })
        {
            if (TakeIf(op))
            {
                return new Binary(op, left, ParseBinary(0));
            }
        }

        return left;
    }

    // Levels from loosest to tightest, as in Python: | ^ & (<< >>) (+ -) (* / %).
    private static readonly string[][] BinaryLevels =
    [
        ["|"], ["^"], ["&"], ["<<", ">>"], ["+", "-"], ["*", "/", "%"],
    ];

    private Expr ParseBinary(int level)
    {
        if (level == BinaryLevels.Length)
        {
            return ParseUnary();
        }

        var left = ParseBinary(level + 1);
        while (true)
        {
            string? matched = null;
            foreach (var op in BinaryLevels[level])
            {
                if (Peek.Kind == TokenKind.Operator && Peek.Text == op)
                {
                    matched = op;
                    break;
                }
            }

            if (matched is null)
            {
                return left;
            }

            _next++;
            left = new Binary(matched, left, ParseBinary(level + 1));
        }
    }

    private Expr ParseUnary()
    {
        if (TakeIf("-"))
        {
            return new Unary("-", ParseUnary());
        }

        if (TakeIf("~"))
        {
            return new Unary("~", ParseUnary());
        }

        return ParsePostfix();
    }

    private Expr ParsePostfix()
    {
        var expr = ParsePrimary();
        while (TakeIf("."))
        {
            var member = Take();
            if (member.Kind != TokenKind.Word || (member.Text != "length" && member.Text != "size"))
            {
                throw new FormatException($"only '.length' and '.size' are supported, not '.{member.Text}'");
            }

            expr = new LengthOf(expr);
        }

        return expr;
    }

    private Expr ParsePrimary()
    {
        var token = Take();
        switch (token.Kind)
        {
            case TokenKind.Number:
                return new IntLiteral(ParseNumber(token.Text));
            case TokenKind.Word when token.Text == "true":
                return new BoolLiteral(true);
            case TokenKind.Word when token.Text == "false":
                return new BoolLiteral(false);
            case TokenKind.Word when token.Text.StartsWith("_", StringComparison.Ordinal) && token.Text != "_":
                throw new FormatException($"'{token.Text}' is not supported (no _io, _root, _parent)");
            case TokenKind.Word:
                if (TakeIf("::"))
                {
                    var value = Take();
                    if (value.Kind != TokenKind.Word)
                    {
                        throw new FormatException($"expected an enum value name after '{token.Text}::'");
                    }

                    return new EnumRef(token.Text, value.Text);
                }

                return new NameRef(token.Text);
            case TokenKind.Operator when token.Text == "(":
                var inner = ParseConditional();
                Expect(")");
                return inner;
            case TokenKind.End:
                throw new FormatException($"'{_text}' ends too early");
            default:
                throw new FormatException($"unexpected '{token.Text}' at column {token.Position + 1}");
        }
    }

    private static ulong ParseNumber(string text)
    {
        var digits = text.Replace("_", string.Empty);
        try
        {
            if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                return ulong.Parse(digits.Substring(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            }

            if (digits.StartsWith("0b", StringComparison.OrdinalIgnoreCase))
            {
                return Convert.ToUInt64(digits.Substring(2), 2);
            }

            return ulong.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is OverflowException or ArgumentException or FormatException)
        {
            throw new FormatException($"'{text}' is not a 64-bit integer");
        }
    }

    private enum TokenKind
    {
        Number,
        Word,
        Operator,
        End,
    }

    private readonly record struct Token(TokenKind Kind, string Text, int Position);

    private static readonly string[] Operators =
        ["::", "==", "!=", "<=", ">=", "<<", ">>", "<", ">", "+", "-", "*", "/", "%", "&", "|", "^", "~", "?", ":", "(", ")", "."];

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            var start = i;
            if (char.IsDigit(c))
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Number, text.Substring(start, i - start), start));
                continue;
            }

            if (char.IsLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Word, text.Substring(start, i - start), start));
                continue;
            }

            string? op = null;
            foreach (var candidate in Operators)
            {
                if (string.CompareOrdinal(text, i, candidate, 0, candidate.Length) == 0)
                {
                    op = candidate;
                    break;
                }
            }

            if (op is null)
            {
                throw new FormatException($"unexpected character '{c}' at column {i + 1}");
            }

            tokens.Add(new Token(TokenKind.Operator, op, start));
            i += op.Length;
        }

        tokens.Add(new Token(TokenKind.End, string.Empty, text.Length));
        return tokens;
    }
}
