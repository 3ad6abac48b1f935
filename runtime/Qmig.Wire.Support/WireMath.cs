using System.Buffers;
using System.Runtime.CompilerServices;

namespace Qmig.Wire;

/// <summary>Spec arithmetic that never throws: a division by zero yields 0, and the record's own rules reject the input.</summary>
/// <remarks>Called by generated readers and writers; public so that records generated into other assemblies can call it.</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class WireMath
{
    /// <summary>The spec's <c>/</c>: <paramref name="left"/> / <paramref name="right"/>, or 0 when <paramref name="right"/> is 0.</summary>
    public static ulong Div(ulong left, ulong right) => right == 0 ? 0 : left / right;

    /// <summary>The spec's <c>%</c>: <paramref name="left"/> % <paramref name="right"/>, or 0 when <paramref name="right"/> is 0.</summary>
    public static ulong Mod(ulong left, ulong right) => right == 0 ? 0 : left % right;
}
