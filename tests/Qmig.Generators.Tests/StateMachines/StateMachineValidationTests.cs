using Microsoft.CodeAnalysis;
using Xunit;

namespace Qmig.Generators.Tests.StateMachines;

/// <summary>
/// One test per rule: a spec with exactly one mistake produces exactly that diagnostic, at the
/// 1-based line and column that `dotnet build` prints as file(line,col). Each YAML is written out in
/// full so the positions can be checked by eye (line numbers are in the comments).
/// </summary>
public class StateMachineValidationTests
{
    private const string Path = "/specs/test.fsm.yaml";

    private const string Valid = """
        machine: door
        states:
          closed:
            initial: true
          open:
          broken:
            terminal: true
        triggers:
          push:
          pull:
          kick:
        transitions:
          - {from: closed, trigger: push, to: open}
          - {from: open, trigger: pull, to: closed}
          - {from: open, trigger: kick, to: broken}
        """;

    [Fact]
    public void A_valid_machine_has_no_diagnostics() => Assert.Empty(GeneratorHarness.Diagnostics(Valid, Path));

    [Fact]
    public void Unknown_state_in_a_transition_is_reported_at_the_name()
    {
        var diagnostic = Single(Valid.Replace("to: broken}", "to: brokn}"), "QMIG2001", line: 15, column: 37);
        Assert.Contains("Unknown state 'brokn'", diagnostic.GetMessage());
        Assert.Contains("closed, open, broken", diagnostic.GetMessage());
    }

    [Fact]
    public void Unknown_trigger_in_a_transition_is_reported_at_the_name()
    {
        var diagnostic = Single(Valid.Replace("trigger: pull", "trigger: pul"), "QMIG2001", line: 14, column: 27);
        Assert.Contains("Unknown trigger 'pul'", diagnostic.GetMessage());
    }

    [Fact]
    public void Unknown_guard_in_a_transition_is_reported_at_the_name()
    {
        // line 15:   - {from: open, trigger: kick, to: broken, guard: hard}
        var diagnostic = Single(Valid.Replace("to: broken}", "to: broken, guard: hard}"), "QMIG2001", line: 15, column: 52);
        Assert.Contains("Unknown guard 'hard'", diagnostic.GetMessage());
    }

    [Fact]
    public void Two_transitions_for_one_state_and_trigger_are_reported_at_the_second()
    {
        var diagnostic = Single(Valid + "\n  - {from: open, trigger: pull, to: broken}", "QMIG2002", line: 16, column: 12);
        Assert.Contains("State 'open' already has a transition on trigger 'pull' (line 14)", diagnostic.GetMessage());
    }

    [Fact]
    public void Two_transitions_with_the_same_guard_are_a_duplicate_but_different_guards_are_not()
    {
        const string guarded = """
            machine: door
            states:
              closed:
                initial: true
              open:
              broken:
                terminal: true
            triggers:
              push:
              pull:
            guards:
              strong:
              weak:
            transitions:
              - {from: closed, trigger: push, to: open}
              - {from: open, trigger: pull, to: closed}
              - {from: open, trigger: push, to: broken, guard: strong}
              - {from: open, trigger: push, to: closed, guard: weak}
            """;
        Assert.Empty(GeneratorHarness.Diagnostics(guarded, Path));

        // line 19:   - {from: open, trigger: push, to: closed, guard: strong}
        var diagnostic = Single(guarded + "\n  - {from: open, trigger: push, to: closed, guard: strong}", "QMIG2002", line: 19, column: 12);
        Assert.Contains("with guard 'strong' (line 17)", diagnostic.GetMessage());
    }

    [Fact]
    public void A_state_unreachable_from_the_initial_state_is_reported_at_its_declaration()
    {
        const string yaml = """
            machine: door
            states:
              closed:
                initial: true
              open:
              attic:
              broken:
                terminal: true
            triggers:
              push:
              pull:
              kick:
            transitions:
              - {from: closed, trigger: push, to: open}
              - {from: open, trigger: pull, to: closed}
              - {from: open, trigger: kick, to: broken}
              - {from: attic, trigger: push, to: open}
            """;
        var diagnostic = Single(yaml, "QMIG2003", line: 6, column: 3);
        Assert.Contains("State 'attic' cannot be reached from the initial state 'closed'", diagnostic.GetMessage());
    }

    [Fact]
    public void A_non_terminal_state_with_no_way_out_is_reported_at_its_declaration()
    {
        const string yaml = """
            machine: door
            states:
              closed:
                initial: true
              open:
              stuck:
              broken:
                terminal: true
            triggers:
              push:
              pull:
              kick:
            transitions:
              - {from: closed, trigger: push, to: open}
              - {from: open, trigger: pull, to: closed}
              - {from: open, trigger: kick, to: broken}
              - {from: closed, trigger: kick, to: stuck}
            """;
        var diagnostic = Single(yaml, "QMIG2004", line: 6, column: 3);
        Assert.Contains("State 'stuck' is not terminal", diagnostic.GetMessage());

        // A self-loop is no way out either.
        Single(yaml + "\n  - {from: stuck, trigger: push, to: stuck}", "QMIG2004", line: 6, column: 3);
    }

    [Fact]
    public void No_initial_state_is_reported_at_the_states_key()
    {
        var diagnostic = Single(Valid.Replace("  closed:\n    initial: true\n", "  closed:\n"), "QMIG2005", line: 2, column: 1);
        Assert.Contains("Machine 'door' has no initial state", diagnostic.GetMessage());
    }

    [Fact]
    public void A_terminal_state_with_an_outgoing_transition_is_reported_at_the_transition()
    {
        var diagnostic = Single(Valid + "\n  - {from: broken, trigger: push, to: closed}", "QMIG2006", line: 16, column: 12);
        Assert.Contains("Terminal state 'broken' has an outgoing transition on trigger 'push'", diagnostic.GetMessage());
    }

    [Fact]
    public void A_second_initial_state_is_reported_at_its_initial_flag()
    {
        // line 5:   open: {initial: true}
        var diagnostic = Single(Valid.Replace("  open:\n", "  open: {initial: true}\n"), "QMIG2007", line: 5, column: 19);
        Assert.Contains("State 'open' is marked initial, but 'closed' already is", diagnostic.GetMessage());
    }

    [Fact]
    public void An_id_that_is_not_lower_snake_case_is_reported_at_the_id()
    {
        // line 12:   Slam:  (an unused trigger, so nothing else refers to it)
        Single(Valid.Replace("  kick:\n", "  kick:\n  Slam:\n"), "QMIG2010", line: 12, column: 3);
    }

    [Fact]
    public void Two_machines_with_one_name_in_a_file_are_reported_at_the_second_name()
    {
        // The second document starts on line 17 ("---" is line 16).
        Single(Valid + "\n---\n" + Valid, "QMIG2009", line: 17, column: 10);
    }

    [Fact]
    public void One_machine_name_in_two_files_is_reported_and_the_other_machines_still_generate()
    {
        var other = Valid.Replace("machine: door", "machine: gate");
        var driver = GeneratorHarness.Driver(
            new InMemoryAdditionalText("/specs/a.fsm.yaml", Valid),
            new InMemoryAdditionalText("/specs/b.fsm.yaml", Valid + "\n---\n" + other));
        var result = driver.RunGenerators(GeneratorHarness.Compilation("class Empty { }")).GetRunResult();

        var duplicate = Assert.Single(result.Diagnostics, d => d.Id == "QMIG2009");
        Assert.Equal(("/specs/b.fsm.yaml", 0, 9), (duplicate.Location.GetLineSpan().Path, duplicate.Location.GetLineSpan().StartLinePosition.Line, duplicate.Location.GetLineSpan().StartLinePosition.Character));
        Assert.Null(result.Results.Single().Exception);
        Assert.Contains(result.Results.Single().GeneratedSources, s => s.HintName == "GateMachine.g.cs");
        Assert.Contains(result.Results.Single().GeneratedSources, s => s.HintName == "DoorMachine.g.cs");
    }

    [Fact]
    public void An_unknown_key_is_reported_at_the_key()
    {
        // line 6:     colour: red
        var diagnostic = Single(Valid.Replace("  open:\n", "  open:\n    colour: red\n"), "QMIG0003", line: 6, column: 5);
        Assert.Contains("Unknown key 'colour' in state 'open'", diagnostic.GetMessage());
    }

    [Fact]
    public void A_missing_transitions_key_is_reported_at_the_machine_name()
    {
        var yaml = Valid.Substring(0, Valid.IndexOf("transitions:", StringComparison.Ordinal));
        var diagnostic = Single(yaml, "QMIG0005", line: 1, column: 10);
        Assert.Contains("'transitions'", diagnostic.GetMessage());
    }

    [Fact]
    public void Malformed_yaml_is_a_yaml_error_near_the_mistake()
    {
        // line 13:   - {from: closed, trigger: push, to: open   (the flow mapping never closes).
        // YamlDotNet throws without a position here; the last event it parsed is the list item.
        Single(Valid.Replace("to: open}", "to: open"), "QMIG0001", line: 13, column: 3);
    }

    [Fact]
    public void A_state_declared_twice_is_a_yaml_error_at_the_second_key()
    {
        // line 6:   open:   (YAML itself forbids the duplicate key)
        var diagnostic = Single(Valid.Replace("  broken:\n", "  open:\n  broken:\n"), "QMIG0001", line: 6, column: 3);
        Assert.Contains("Duplicate key open", diagnostic.GetMessage());
    }

    [Fact]
    public void Unreadable_text_becomes_a_generator_failure_diagnostic_not_an_exception()
    {
        var file = Qmig.Generators.StateMachines.StateMachineParser.ParseSafely(Path, null, CancellationToken.None);
        Assert.Equal("QMIG0002", Assert.Single(file.Diagnostics).Id);
    }

    private static Diagnostic Single(string yaml, string id, int line, int column)
    {
        var diagnostics = GeneratorHarness.Diagnostics(yaml, Path);
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        var span = diagnostic.Location.GetLineSpan();
        Assert.Equal(Path, span.Path);
        Assert.Equal((line, column), (span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1));
        return diagnostic;
    }
}
