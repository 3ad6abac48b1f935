namespace Qmig.Wire;
internal static class Placeholder { }
