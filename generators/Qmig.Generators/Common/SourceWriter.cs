using System;
using System.Text;

namespace Qmig.Generators.Common;

/// <summary>A small indented text writer; emitters build C# as text, not with SyntaxFactory.</summary>
public sealed class SourceWriter
{
    private readonly StringBuilder _builder = new();
    private int _indent;

    public SourceWriter Line(string text = "")
    {
        if (text.Length > 0)
        {
            _builder.Append(' ', _indent * 4);
        }

        _builder.Append(text).Append('\n');
        return this;
    }

    /// <summary>Writes a block of lines (a raw string literal), each re-indented to the current depth.</summary>
    public SourceWriter Lines(string block)
    {
        foreach (var line in block.Replace("\r\n", "\n").Split('\n'))
        {
            Line(line);
        }

        return this;
    }

    public SourceWriter Open(string header)
    {
        if (header.Length > 0)
        {
            Line(header);
        }

        Line("{");
        _indent++;
        return this;
    }

    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
        return this;
    }

    public IDisposable Block(string header)
    {
        Open(header);
        return new Closer(this);
    }

    public override string ToString() => _builder.ToString();

    private sealed class Closer(SourceWriter writer) : IDisposable
    {
        public void Dispose() => writer.Close();
    }
}
