using Qmig.Generators.StateMachines;
using Xunit;

namespace Qmig.Generators.Tests.StateMachines;

/// <summary>The <c>doc:</c> texts of a machine spec become the generated machine's XML docs, escaped.</summary>
public class StateMachineDocCommentTests
{
    private const string Spec = """
        machine: gate
        doc: A gate that opens when load < limit & closes otherwise.
        states:
          shut:
            initial: true
            doc: Nothing passes; the <default> state.
          open:
            doc: Traffic flows while load > 0.
        triggers:
          lift:
            doc: Raise the bar & let one through.
          drop:
        transitions:
          - {from: shut, trigger: lift, to: open}
          - {from: open, trigger: drop, to: shut}
        """;

    [Fact]
    public void Machine_state_and_trigger_docs_reach_the_generated_source_escaped()
    {
        var result = Tests.GeneratorHarness.Run(new StateMachineGenerator(), Tests.GeneratorHarness.DocumentedParseOptions, ("/specs/gate.fsm.yaml", Spec));
        Assert.Empty(result.GeneratorDiagnostics);
        var source = string.Concat(result.Driver.GetRunResult().GeneratedTrees.Select(t => t.ToString()));
        Assert.Contains("/// A gate that opens when load &lt; limit &amp; closes otherwise.", source);
        Assert.Contains("/// Nothing passes; the &lt;default&gt; state.", source);
        Assert.Contains("/// Traffic flows while load &gt; 0.", source);
        Assert.Contains("/// Raise the bar &amp; let one through.", source);
        Assert.DoesNotContain("<default>", source);
        var docProblems = result.Output.GetDiagnostics()
            .Where(d => d.Id is "CS1591" or "CS1570" or "CS1572" or "CS1573" or "CS1574" or "CS1584" or "CS1658")
            .Select(d => d.ToString())
            .ToList();
        Assert.Empty(docProblems);
    }
}
