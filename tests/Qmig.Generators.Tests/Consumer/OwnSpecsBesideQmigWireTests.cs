using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Generators.Tests.Consumer;

/// <summary>
/// A VMM-shaped project outside the solution that restores only from the packages test.sh packs
/// into artifacts/packages (a local folder feed, nothing else): it takes the generators and
/// <c>Qmig.Wire</c>, generates records and a machine from specs of its own, and builds with
/// <c>dotnet build -warnaserror</c>. Both sets of generated types meet in one compilation (the
/// support types come from one assembly), and its specs, which name no namespace, generate into
/// its root namespace.
/// </summary>
public sealed class OwnSpecsBesideQmigWireTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-consumer-").FullName;

    [Fact]
    public async Task AProjectWithItsOwnSpecsAndAReferenceToQmigWireBuildsWithWarningsAsErrors()
    {
        var feed = Path.Combine(RepositoryRoot(), "artifacts", "packages");
        Assert.True(File.Exists(Path.Combine(feed, "Qmig.Generators.1.0.0.nupkg")) && File.Exists(Path.Combine(feed, "Qmig.Wire.1.0.0.nupkg")),
            $"no Qmig packages in {feed}: ./test.sh packs them (dotnet pack runtime/Qmig.Wire.Support runtime/Qmig.Wire generators/Qmig.Generators -c Release -o artifacts/packages)");
        File.WriteAllText(Path.Combine(_work, "nuget.config"), $"""
            <configuration>
              <packageSources>
                <clear />
                <add key="qmig" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(_work, "Vmm.Consumer.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <RootNamespace>Vmm.Devices</RootNamespace>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <ImportDirectoryBuildProps>false</ImportDirectoryBuildProps>
                <ImportDirectoryPackagesProps>false</ImportDirectoryPackagesProps>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Qmig.Generators" Version="1.0.0" PrivateAssets="all" />
                <PackageReference Include="Qmig.Wire" Version="1.0.0" />
                <AdditionalFiles Include="specs/*.ksy;specs/*.fsm.yaml" />
              </ItemGroup>
            </Project>
            """);
        Directory.CreateDirectory(Path.Combine(_work, "specs"));
        File.WriteAllText(Path.Combine(_work, "specs", "timer_state.ksy"), """
            meta:
              id: timer_state
              endian: be
            doc: A device's saved timer, as a VMM of its own writes it.
            types:
              timer_state:
                doc: The deadline and the period of one timer.
                seq:
                  - id: deadline_ns
                    type: u8
                    doc: Absolute deadline.
                  - id: period_ns
                    type: u4
                    doc: Zero for a one-shot timer.
            """);
        File.WriteAllText(Path.Combine(_work, "specs", "door.fsm.yaml"), """
            machine: door
            doc: A door of the VMM's own.
            states:
              closed:
                initial: true
                doc: Shut.
              open:
                doc: Open.
            triggers:
              push:
                doc: Someone pushes it.
            transitions:
              - from: closed
                trigger: push
                to: open
              - from: open
                trigger: push
                to: closed
            """);
        // Records and machines of both assemblies side by side.
        File.WriteAllText(Path.Combine(_work, "Use.cs"), """
            namespace Vmm.Devices;

            public static class Use
            {
                public static bool Both()
                {
                    System.Span<byte> bytes = stackalloc byte[12];
                    var wrote = TimerState.TryWrite(bytes, 5, 1, out var written) == System.Buffers.OperationStatus.Done && written == 12;
                    var read = TimerState.TryRead(bytes, out var back, out _, out Qmig.Wire.WireError _) == System.Buffers.OperationStatus.Done
                        && back.DeadlineNs == 5 && back.PeriodNs == 1;
                    var door = Machines.DoorMachine.Fire(Machines.DoorMachine.Initial, Machines.DoorMachine.Trigger.Push);
                    var postcopy = Qmig.Wire.Machines.PostcopyMachine.Initial;
                    return wrote && read && door == Machines.DoorMachine.State.Open
                        && Machines.MachineCatalog.Find("door") is not null && Qmig.Wire.Machines.MachineCatalog.Find("postcopy") is not null
                        && postcopy == Qmig.Wire.Machines.PostcopyMachine.State.None;
                }
            }
            """);

        // Packages restored into a folder of its own: the machine-wide cache may hold an older 1.0.0.
        var start = new ProcessStartInfo("dotnet", ["build", _work, "-warnaserror", "--nologo", $"-p:RestorePackagesPath={Path.Combine(_work, "packages")}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var build = Process.Start(start)!;
        var stdout = build.StandardOutput.ReadToEndAsync();
        var stderr = build.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await build.WaitForExitAsync(limit.Token);
        var said = await stdout + await stderr;
        output.WriteLine(said);
        Assert.True(build.ExitCode == 0, $"the consumer did not build:\n{said}");
    }

    private static string RepositoryRoot()
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

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
