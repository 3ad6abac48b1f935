namespace Qmig.Wire.Tests;
public class SmokeTests { [Xunit.Fact] public void DataIsCopied() => Xunit.Assert.True(File.Exists("data/pc-32m-paused/pc-32m-paused.mig")); }
