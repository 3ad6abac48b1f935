namespace Qmig.Generators;
internal static class Placeholder { }
