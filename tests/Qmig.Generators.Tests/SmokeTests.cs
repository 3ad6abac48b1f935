namespace Qmig.Generators.Tests;
public class SmokeTests { [Xunit.Fact] public void SpecIsCopied() => Xunit.Assert.True(Directory.Exists("spec")); }
