namespace Qmig.TestSupport;

/// <summary>The checkout the tests run from, for what test.sh builds outside the test's own output (artifacts/).</summary>
public static class Repository
{
    /// <summary>The folder that holds Protocol.sln, above the test assembly.</summary>
    public static string Root
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Protocol.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException("Protocol.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
