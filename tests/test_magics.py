"""The magics, run inside a real IPython shell against the shared profiler."""

from __future__ import annotations

import ast
import builtins
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import session_shell
from IPython.utils.capture import capture_output

from wdbx_notebook import PerformanceProfiler, _units, get_performance_profiler
from wdbx_notebook._clock import FakeClock
from wdbx_notebook.jupyter import cell as cell_module
from wdbx_notebook.jupyter import magics as magics_module

DURATION = r"[\d.]+ (?:ns|µs|ms|s)"
MEMORY = r"(?:[+-]?[\d.]+ (?:B|KiB|MiB|GiB)|—)"
SUMMARY = re.compile(
    rf"^wdbx_profile (?P<name>\S+): (?:(?P<one>{DURATION}), memory (?P<memory>{MEMORY})"
    rf"|(?P<runs>\d+) runs?, mean (?P<mean>{DURATION})"
    rf"(?: \(min (?P<min>{DURATION}), max (?P<max>{DURATION})\))?, memory {MEMORY} in all"
    rf"|failed after (?P<failed>{DURATION}) \((?P<error>\w+)\)(?P<rest>.*)"
    rf"|interrupted after (?P<done>\d+) of (?P<total>\d+) runs?(?P<after>.*))$",
    re.M,
)


@pytest.fixture(scope="module")
def shell() -> Any:
    ip = session_shell()
    # Without this the shell formats only text/plain.
    ip.display_formatter.active_types = ip.display_formatter.format_types
    return ip


@pytest.fixture
def ip(shell: Any) -> Iterator[Any]:
    # Python's own display hook (a doctest run earlier) leaves builtins._ behind, and
    # then IPython leaves _ alone in every cell, magic or not.
    vars(builtins).pop("_", None)
    profiler = get_performance_profiler()
    profiler.reset_statistics()
    shell.run_line_magic("load_ext", "wdbx_notebook")
    yield shell
    shell.run_line_magic("unload_ext", "wdbx_notebook")
    profiler.reset_statistics()


class Ran:
    def __init__(self, result: Any, captured: Any) -> None:
        self.result = result
        self.stdout: str = captured.stdout
        self.stderr: str = captured.stderr
        self.outputs = captured.outputs


def run(ip: Any, code: str) -> Ran:
    with capture_output() as captured:
        result = ip.run_cell(code, store_history=True)
    return Ran(result, captured)


def stats(name: str) -> dict[str, Any]:
    return get_performance_profiler().get_statistics(name)


def assert_usage_error(ran: Ran, *fragments: str) -> None:
    assert not ran.result.success
    assert "UsageError" in ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr
    for fragment in fragments:
        assert fragment in ran.stderr


# -- %%wdbx_profile ----------------------------------------------------------------


def test_cell_runs_in_user_namespace_and_displays_last_expression(ip: Any) -> None:
    ran = run(ip, "%%wdbx_profile answer\nx = 41\nx + 1")
    assert ran.result.success
    assert ip.user_ns["x"] == 41
    assert re.search(r"Out\[\d+\]: 42", ran.stdout)
    assert ip.user_ns["_"] == 42  # the displayhook saw it, as for any cell
    assert stats("answer")["call_count"] == 1
    assert stats("answer")["success_count"] == 1


def test_summary_line_shows_the_cells_runs_as_the_profiler_recorded_them(ip: Any) -> None:
    ran = run(ip, "%%wdbx_profile build\ndata = list(range(1000))")
    match = SUMMARY.search(ran.stdout)
    assert match and match["name"] == "build" and match["one"], ran.stdout
    s = stats("build")
    assert s["call_count"] == 1
    assert match["one"] == cell_module.format_duration_ms(s["avg_duration_ms"])
    assert match["memory"] == cell_module.format_bytes(s["avg_memory_delta"], signed=True)
    # A second cell: its own runs, whatever was recorded before.
    ran = run(ip, "%%wdbx_profile build -n 3\ndata = list(range(1000))")
    match = SUMMARY.search(ran.stdout)
    assert match and match["runs"] == "3", ran.stdout
    assert stats("build")["call_count"] == 4


def test_error_cell_is_recorded_as_failed_and_shows_the_normal_traceback(ip: Any) -> None:
    run(ip, "def explode():\n    raise ValueError('boom')")
    ran = run(ip, "%%wdbx_profile risky\nbefore = 1\nexplode()\nafter = 2")
    assert not ran.result.success  # the cell counts as failed, as without the magic
    assert isinstance(ran.result.error_in_exec, ValueError)
    assert "ValueError: boom" in ran.stdout
    assert "----> 2 explode()" in ran.stdout
    assert "run_cell_magic" not in ran.stdout  # no magic machinery in the traceback
    assert ip.user_ns["before"] == 1 and "after" not in ip.user_ns
    s = stats("risky")
    assert (s["call_count"], s["error_count"], s["errors_by_type"]) == (1, 1, {"ValueError": 1})
    match = SUMMARY.search(ran.stdout)
    assert match and match["error"] == "ValueError" and match["rest"] == "", ran.stdout
    assert match["failed"] == cell_module.format_duration_ms(
        get_performance_profiler().snapshot().calls("risky").duration_ns[0] / 1e6
    )
    # The same cell without the magic: the same traceback text, cell numbers included
    # (each traceback names its own cell, the wrapped one the number the magic ran in).
    wrapped_count = ran.result.execution_count
    plain = run(ip, "before = 1\nexplode()\nafter = 2")
    assert plain.stdout.replace(f"Cell In[{plain.result.execution_count}]", "Cell In[X]") == (
        ran.stdout[: ran.stdout.index("wdbx_profile risky")].replace(
            f"Cell In[{wrapped_count}]", "Cell In[X]"
        )
    )
    assert f"Cell In[{wrapped_count}], line 2" in ran.stdout


def test_repeat_runs_the_cell_n_times_and_displays_once(ip: Any) -> None:
    ip.user_ns["counter"] = 0
    ran = run(ip, "%%wdbx_profile bump -n 4\ncounter += 1\ncounter")
    assert ip.user_ns["counter"] == 4
    assert stats("bump")["call_count"] == 4
    assert len(re.findall(r"Out\[\d+\]:", ran.stdout)) == 1
    assert re.search(r"Out\[\d+\]: 4", ran.stdout)
    match = SUMMARY.search(ran.stdout)
    assert match and match["runs"] == "4", ran.stdout


def test_repeat_stops_at_the_first_failure(ip: Any) -> None:
    ip.user_ns["tries"] = 0
    ran = run(
        ip, "%%wdbx_profile third_fails -n 5\ntries += 1\nif tries == 3:\n    raise KeyError('k')"
    )
    assert ip.user_ns["tries"] == 3
    s = stats("third_fails")
    assert (s["call_count"], s["success_count"], s["error_count"]) == (3, 2, 1)
    assert not ran.result.success
    match = SUMMARY.search(ran.stdout)
    assert match and match["error"] == "KeyError", ran.stdout
    assert match["rest"].startswith(" on run 3 of 5; before it 2 runs, mean "), ran.stdout


def test_progress_shows_as_text_outside_a_kernel(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cell_module, "PROGRESS_AFTER_S", 0.0)
    ran = run(ip, "%%wdbx_profile looped -n 3\nsum(range(100))")
    assert "[##############################] 3/3" in ran.stderr
    quiet = run(ip, "%%wdbx_profile looped -n 3 -q\nsum(range(100))")
    assert quiet.stderr == "" and "wdbx_profile" not in quiet.stdout


def test_quiet_prints_nothing(ip: Any) -> None:
    ran = run(ip, "%%wdbx_profile hush -q\nq = 1")
    assert ran.stdout == "" and ran.stderr == ""
    assert stats("hush")["call_count"] == 1


def test_memory_options(ip: Any) -> None:
    run(ip, "%%wdbx_profile timed_only --no-memory\nz = 1")
    assert stats("timed_only")["memory_call_count"] == 0
    # Large enough that objects the cell happens to free cannot hide it (the delta is net).
    run(ip, "%%wdbx_profile heap --tracemalloc\nblob = bytearray(20_000_000)")
    s = stats("heap")
    assert s["memory_call_count"] == 1
    assert s["max_memory_delta"] >= 19_000_000


def test_top_level_await_is_timed_over_the_whole_await(ip: Any) -> None:
    run(ip, "import asyncio")
    ran = run(ip, "%%wdbx_profile nap\nawait asyncio.sleep(0.2)\nwoke = 'yes'\nwoke")
    assert ran.result.success, ran.stdout + ran.stderr
    assert ip.user_ns["woke"] == "yes"
    assert re.search(r"Out\[\d+\]: 'yes'", ran.stdout)
    s = stats("nap")
    assert s["call_count"] == 1
    assert s["min_duration_ms"] >= 200.0  # asyncio.sleep never returns early
    assert SUMMARY.search(ran.stdout)


def test_top_level_await_with_repeat_and_failure(ip: Any) -> None:
    run(ip, "import asyncio")
    run(ip, "%%wdbx_profile naps -n 3\nawait asyncio.sleep(0.01)")
    assert stats("naps")["call_count"] == 3
    assert stats("naps")["min_duration_ms"] >= 10.0
    ran = run(ip, "%%wdbx_profile bad_nap\nawait asyncio.sleep(0)\nraise RuntimeError('late')")
    assert not ran.result.success
    assert "RuntimeError: late" in ran.stdout
    assert stats("bad_nap")["errors_by_type"] == {"RuntimeError": 1}


def test_magic_line_expands_variables_with_and_without_await(ip: Any) -> None:
    run(ip, "import asyncio\nsize = 10")
    run(ip, "%%wdbx_profile sum_{size}\nsum(range(size))")
    run(ip, "%%wdbx_profile nap_{size}\nawait asyncio.sleep(0)")
    assert get_performance_profiler().get_all_operations() == ["sum_10", "nap_10"]


def test_line_form_awaits(ip: Any) -> None:
    run(ip, "import asyncio")
    ran = run(ip, "%wdbx_profile line_nap await asyncio.sleep(0.1)")
    assert ran.result.success, ran.stdout + ran.stderr
    assert stats("line_nap")["min_duration_ms"] >= 100.0
    assert SUMMARY.search(ran.stdout)


def test_line_form_runs_one_statement(ip: Any) -> None:
    ran = run(ip, '%wdbx_profile sort ordered = sorted([3, 1, 2]); spaced = "a  b"')
    assert ran.result.success
    assert ip.user_ns["ordered"] == [1, 2, 3]
    assert ip.user_ns["spaced"] == "a  b"  # written as typed, spacing kept
    assert stats("sort")["call_count"] == 1
    run(ip, "%wdbx_profile -n 2 sort ordered = sorted(ordered)")
    assert stats("sort")["call_count"] == 3


def test_syntax_error_is_shown_and_not_recorded(ip: Any) -> None:
    ran = run(ip, "%%wdbx_profile broken\nx = (")
    assert not ran.result.success
    assert "SyntaxError" in ran.stdout + ran.stderr
    assert "broken" not in get_performance_profiler().get_all_operations()


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("%%wdbx_profile\nx = 1", "operation name is missing"),
        ("%%wdbx_profile op -n 0\nx = 1", "-n must be at least 1"),
        ("%%wdbx_profile op -n many\nx = 1", "invalid int value"),
        ("%%wdbx_profile op --no-memory --tracemalloc\nx = 1", "not both"),
        ("%%wdbx_profile op --bogus\nx = 1", "--bogus"),
        ("%%wdbx_profile op extra\nx = 1", "unexpected"),
        ("%wdbx_profile op", "needs a statement"),
        ("%wdbx_report -f pdf", "invalid choice"),
        ("%wdbx_autoprofile maybe", "invalid choice"),
        ("%wdbx_stats no_such_op", "no profiled operation named 'no_such_op'"),
        ("%wdbx_reset no_such_op", "no profiled operation named 'no_such_op'"),
        ("%wdbx_compare no_such_op", "no profiled operation named 'no_such_op'"),
    ],
)
def test_usage_errors_show_a_message_not_a_traceback(ip: Any, code: str, fragment: str) -> None:
    assert_usage_error(run(ip, code), fragment)


def test_cell_magic_help_shows_usage_and_examples(ip: Any) -> None:
    ran = run(ip, "%%wdbx_profile?")
    assert "%wdbx_profile [-n N] [-q] [--no-memory] [--tracemalloc] name" in ran.stdout
    assert "Examples" in ran.stdout
    assert "%%wdbx_profile sort_1e6 -n 5" in ran.stdout
    assert "await" in ran.stdout
    assert "What is timed: each run of the cell's code" in ran.stdout
    assert "What is not" in ran.stdout and "compiling the cell" in ran.stdout


# -- reading magics ------------------------------------------------------------------


def test_stats_returns_a_table_with_html_and_text(ip: Any) -> None:
    run(ip, "%%wdbx_profile fast\nx = 1")
    run(ip, "def explode():\n    raise ValueError('boom')")
    run(ip, "%%wdbx_profile failing\nexplode()")
    ran = run(ip, "%wdbx_stats")
    bundle, _ = ip.display_formatter.format(ran.result.result)
    assert {"text/plain", "text/html"} <= set(bundle)
    for name in ("fast", "failing"):
        assert name in bundle["text/plain"] and name in bundle["text/html"]
    assert 'class="wdbx-failing"' in bundle["text/html"]
    assert "Failures in failing: ValueError (1)" in bundle["text/plain"]
    assert "Stability warnings" in bundle["text/plain"]  # single calls: p95 warnings
    only = run(ip, "%wdbx_stats fast")
    assert list(only.result.result.dataframe.index) == ["fast"]


def test_report_is_displayed_and_written(ip: Any, tmp_path: Path) -> None:
    run(ip, "%%wdbx_profile reported\nx = 1")
    html = run(ip, "%wdbx_report")
    assert {"text/html", "text/plain"} <= set(html.outputs[0].data)
    assert "reported" in html.outputs[0].data["text/html"]
    text = run(ip, "%wdbx_report -f text")
    assert set(text.outputs[0].data) == {"text/plain"}
    assert text.outputs[0].data["text/plain"].startswith("WDBX PERFORMANCE REPORT")
    target = tmp_path / "performance_report.md"
    md = run(ip, f"%wdbx_report -f markdown -o {target}")
    assert set(md.outputs[0].data) == {"text/markdown", "text/plain"}
    assert f"Report written to {target}" in md.stdout
    written = target.read_text(encoding="utf-8")
    assert written.startswith("# WDBX Performance Report")
    assert "reported" in written
    bad = run(ip, f"%wdbx_report -o {tmp_path / 'missing_dir' / 'r.txt'}")
    assert_usage_error(bad, "could not write the report")


def test_reset_some_or_all(ip: Any) -> None:
    run(ip, "%%wdbx_profile one\nx = 1")
    run(ip, "%%wdbx_profile two\nx = 2")
    ran = run(ip, "%wdbx_reset one")
    assert "Reset 1 operation: one" in ran.stdout
    assert get_performance_profiler().get_all_operations() == ["two"]
    ran = run(ip, "%wdbx_reset")
    assert "Reset all operations (1 had calls)" in ran.stdout
    assert get_performance_profiler().get_all_operations() == []


def test_compare_without_baseline_shows_the_comparison(ip: Any) -> None:
    run(ip, "%%wdbx_profile left\nx = sorted(range(100))")
    run(ip, "%%wdbx_profile right\nx = list(range(100))")
    ran = run(ip, "%wdbx_compare left right")
    assert ran.result.success
    shown = ran.stdout + "".join(o.data.get("text/plain", "") for o in ran.outputs)
    assert "left" in shown and "right" in shown


def test_compare_with_a_missing_baseline_says_so_in_one_line(ip: Any, tmp_path: Path) -> None:
    run(ip, "%%wdbx_profile left\nx = 1")
    ran = run(ip, f"%wdbx_compare --baseline {tmp_path / 'nothing.json'}")
    assert_usage_error(ran, "no saved session at")
    assert len(ran.stderr.strip().splitlines()) == 1


def test_compare_with_a_saved_baseline_shows_the_markdown_comparison(
    ip: Any, tmp_path: Path
) -> None:
    run(ip, "%%wdbx_profile build -n 5 -q\nx = sorted(range(300))")
    baseline = tmp_path / "baseline.json"
    get_performance_profiler().save(baseline)
    run(ip, "%%wdbx_profile build -n 5 -q\nx = sorted(range(300))")
    ran = run(ip, f"%wdbx_compare --baseline {baseline}")
    assert ran.result.success, ran.stderr
    data = ran.outputs[0].data
    assert set(data) == {"text/markdown", "text/plain"}
    assert data["text/markdown"] == data["text/plain"]
    assert "Performance comparison" in data["text/markdown"]
    assert "| build |" in data["text/markdown"]
    unknown = run(ip, f"%wdbx_compare --baseline {baseline} nowhere")
    assert_usage_error(unknown, "no operation named 'nowhere'")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    ran = run(ip, f"%wdbx_compare --baseline {broken}")
    assert_usage_error(ran, "could not load the baseline")
    assert len(ran.stderr.strip().splitlines()) == 1


# -- autoprofile -----------------------------------------------------------------------


def test_autoprofile_records_each_cell_once(ip: Any) -> None:
    profiler = get_performance_profiler()
    assert "off" in run(ip, "%wdbx_autoprofile").stdout
    run(ip, "%wdbx_autoprofile on")
    first = run(ip, "auto_a = 1")
    count = first.result.execution_count
    run(ip, "%%wdbx_profile explicit\nauto_b = 2")
    failed = run(ip, "raise OSError('disk')")
    run(ip, "%wdbx_autoprofile off")
    run(ip, "auto_c = 3")
    names = profiler.get_all_operations()
    assert f"cell {count}: auto_a = 1" in names
    assert "explicit" in names
    # The %%wdbx_profile cell is recorded under its own name only, the off switch not at all.
    auto = [n for n in names if n.startswith("cell ")]
    assert auto == [
        f"cell {count}: auto_a = 1",
        f"cell {failed.result.execution_count}: raise OSError('disk')",
    ]
    assert profiler.get_statistics(auto[1])["errors_by_type"] == {"OSError": 1}
    assert profiler.get_statistics("explicit")["call_count"] == 1


def test_autoprofile_shortens_long_first_lines(ip: Any) -> None:
    run(ip, "%wdbx_autoprofile on")
    ran = run(ip, "\n# " + "x" * 80 + "\ny = 1")
    run(ip, "%wdbx_autoprofile off")
    name = next(n for n in get_performance_profiler().get_all_operations() if n.startswith("cell "))
    assert name.startswith(f"cell {ran.result.execution_count}: # xxx")
    assert name.endswith("…")
    assert len(name.split(": ", 1)[1]) == 40


# -- loading ------------------------------------------------------------------------------


def test_unload_removes_magics_hooks_and_transformer(shell: Any) -> None:
    names = [
        "wdbx_profile",
        "wdbx_stats",
        "wdbx_report",
        "wdbx_autoprofile",
        "wdbx_reset",
        "wdbx_compare",
    ]
    shell.run_line_magic("load_ext", "wdbx_notebook")
    shell.run_line_magic("wdbx_autoprofile", "on")
    callbacks = len(shell.events.callbacks["pre_run_cell"])
    transformers = len(shell.input_transformers_cleanup)
    assert all(shell.find_line_magic(n) is not None for n in names)
    assert shell.find_cell_magic("wdbx_profile") is not None
    shell.run_line_magic("unload_ext", "wdbx_notebook")
    assert all(shell.find_line_magic(n) is None for n in names)
    assert shell.find_cell_magic("wdbx_profile") is None
    assert "WdbxMagics" not in shell.magics_manager.registry
    assert len(shell.events.callbacks["pre_run_cell"]) == callbacks - 1
    assert len(shell.input_transformers_cleanup) == transformers - 1
    ran = run(shell, "%%wdbx_profile gone\nx = 1")
    assert "UsageError" in ran.stderr and "not found" in ran.stderr
    # Loading again works after an unload.
    shell.run_line_magic("load_ext", "wdbx_notebook")
    assert shell.find_cell_magic("wdbx_profile") is not None
    shell.run_line_magic("unload_ext", "wdbx_notebook")


def test_summary_numbers_read_as_in_every_other_view() -> None:
    # The summary formats through the package's one units module.
    assert cell_module.format_duration_ms is _units.format_duration_ms
    assert cell_module.format_bytes is _units.format_bytes
    outcome = cell_module.Outcome("load", 1, 1, [0.5], [1536])
    assert cell_module.summary_line(outcome) == "wdbx_profile load: 500 µs, memory +1.50 KiB"
    outcome = cell_module.Outcome("sort", 2, 2, [12.345, 2410.0], [None, -3 * 2**20])
    assert cell_module.summary_line(outcome) == (
        "wdbx_profile sort: 2 runs, mean 1.21 s (min 12.3 ms, max 2.41 s), memory -3.00 MiB in all"
    )
    outcome = cell_module.Outcome("x\u202ey", 1, 1, [1.0], [None])
    assert cell_module.summary_line(outcome) == "wdbx_profile x\\u202ey: 1.00 ms, memory —"


# -- what is timed (a fake clock: exact numbers) ----------------------------------------


class _AdvanceOnVisit(ast.NodeTransformer):
    """An AST transformer that moves the clock: compiling is outside the timing."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def visit_Module(self, node: ast.Module) -> ast.Module:
        self.clock.advance_ns(10**9)
        return node


@pytest.fixture
def fake(shell: Any) -> Iterator[tuple[Any, PerformanceProfiler, FakeClock]]:
    """The magics bound to a time-only profiler on a fake clock the cells can move."""
    clock = FakeClock(start_ns=10**12)
    profiler = PerformanceProfiler(clock=clock, track_memory=False)
    shell.register_magics(magics_module.WdbxMagics(shell, profiler=profiler))
    transformer = _AdvanceOnVisit(clock)
    shell.ast_transformers.append(transformer)
    shell.user_ns["clock"] = clock
    yield shell, profiler, clock
    shell.ast_transformers.remove(transformer)
    shell.run_line_magic("unload_ext", "wdbx_notebook")


def test_each_run_times_the_body_only(fake: tuple[Any, PerformanceProfiler, FakeClock]) -> None:
    ip, profiler, _ = fake
    ran = run(ip, "%%wdbx_profile body -n 4\nclock.advance_ns(1_500)")
    assert ran.result.success, ran.stdout + ran.stderr
    assert profiler.recent_durations_ns("body").tolist() == [1_500] * 4
    match = SUMMARY.search(ran.stdout)
    assert match and match["runs"] == "4" and match["mean"] == "1.50 µs", ran.stdout
    assert match["min"] == match["max"] == "1.50 µs"


def test_a_failing_run_is_timed_before_its_traceback_is_rendered(
    fake: tuple[Any, PerformanceProfiler, FakeClock],
) -> None:
    ip, profiler, _ = fake
    run(
        ip,
        "class Loud(Exception):\n"
        "    def _render_traceback_(self):\n"
        "        clock.advance_ns(10**9)  # rendering takes a second\n"
        "        return ['rendered Loud']",
    )
    ran = run(ip, "%%wdbx_profile loud -n 3\nclock.advance_ns(700)\nraise Loud()")
    assert not ran.result.success
    assert "rendered Loud" in ran.stdout
    calls = profiler.snapshot().calls("loud")
    assert calls.duration_ns.tolist() == [700]
    assert calls.error.tolist() == ["Loud"]
    match = SUMMARY.search(ran.stdout)
    assert match and match["failed"] == "700 ns" and match["error"] == "Loud", ran.stdout
    assert match["rest"] == " on run 1 of 3"


def test_an_interrupted_run_is_not_a_failed_call(
    fake: tuple[Any, PerformanceProfiler, FakeClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    ip, profiler, _ = fake
    monkeypatch.setattr(cell_module, "PROGRESS_AFTER_S", 0.0)
    ip.user_ns["runs"] = 0
    ran = run(
        ip,
        "%%wdbx_profile stopped -n 5\n"
        "runs += 1\nclock.advance_ns(2_000)\n"
        "if runs == 3:\n    raise KeyboardInterrupt",
    )
    assert not ran.result.success
    assert isinstance(ran.result.error_in_exec, KeyboardInterrupt)
    assert "KeyboardInterrupt" in ran.stdout
    s = profiler.get_statistics("stopped")
    assert (s["call_count"], s["success_count"], s["error_count"]) == (2, 2, 0)
    match = SUMMARY.search(ran.stdout)
    assert match and (match["done"], match["total"]) == ("2", "5"), ran.stdout
    assert match["after"] == "; 2 runs, mean 2.00 µs (min 2.00 µs, max 2.00 µs), memory — in all"
    # The progress line is ended, so what follows does not start on it.
    assert ran.stderr.endswith("2/5\n"), repr(ran.stderr)


def test_the_last_run_shows_its_value_and_a_value_that_cannot_be_shown_is_a_failure(
    fake: tuple[Any, PerformanceProfiler, FakeClock],
) -> None:
    ip, profiler, _ = fake
    ran = run(ip, "%%wdbx_profile shown -n 3\nclock.advance_ns(10)\n'value'")
    assert re.search(r"Out\[\d+\]: 'value'", ran.stdout) and ran.stdout.count("Out[") == 1
    assert profiler.get_statistics("shown")["success_count"] == 3
    run(ip, "class Bad:\n    def __repr__(self):\n        raise ValueError('no repr')")
    plain = run(ip, "Bad()")
    wrapped = run(ip, "%%wdbx_profile bad\nBad()")
    assert wrapped.result.success == plain.result.success  # a terminal carries on
    assert "ValueError: no repr" in plain.stdout and "ValueError: no repr" in wrapped.stdout
    assert profiler.get_statistics("bad")["errors_by_type"] == {"ValueError": 1}


def test_a_trailing_semicolon_hides_the_value(ip: Any) -> None:
    run(ip, "'before'")
    ran = run(ip, "%%wdbx_profile semi\n10 + 20;")
    assert "Out[" not in ran.stdout
    assert ip.user_ns["_"] == "before"
    assert f"_{ran.result.execution_count}" not in ip.user_ns
    shown = run(ip, "%%wdbx_profile semi\n10 + 20  # a comment, no semicolon")
    assert re.search(rf"Out\[{shown.result.execution_count}\]: 30", shown.stdout)
    assert ip.user_ns[f"_{shown.result.execution_count}"] == 30


def test_sleeping_body_durations_and_the_summary_match_the_profiler(ip: Any) -> None:
    ran = run(ip, "import time\n")
    ran = run(ip, "%%wdbx_profile nap -n 3\ntime.sleep(0.02)")
    assert ran.result.success
    durations_ns = get_performance_profiler().recent_durations_ns("nap").tolist()
    assert len(durations_ns) == 3 and min(durations_ns) >= 20_000_000
    s = stats("nap")
    match = SUMMARY.search(ran.stdout)
    assert match, ran.stdout
    assert match["mean"] == cell_module.format_duration_ms(s["avg_duration_ms"])
    assert match["min"] == cell_module.format_duration_ms(s["min_duration_ms"])
    assert match["max"] == cell_module.format_duration_ms(s["max_duration_ms"])


def test_first_profiled_cell_loads_no_numpy() -> None:
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'wdbx_notebook')\n"
        "result = ip.run_cell('%%wdbx_profile first -n 3\\nx = sum(range(10))\\nx')\n"
        "assert result.success and result.result == 45\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'pandas', "
        "'matplotlib', 'ipywidgets'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
    assert "wdbx_profile first: 3 runs, mean" in out.stdout


def test_load_registers_the_figure_formatter_and_unload_removes_it(shell: Any) -> None:
    from matplotlib.figure import Figure

    png = shell.display_formatter.formatters["image/png"]
    before = dict(png.type_printers), dict(png.deferred_printers)
    try:
        png.type_printers.pop(Figure, None)
        png.deferred_printers.pop(("matplotlib.figure", "Figure"), None)
        shell.run_line_magic("load_ext", "wdbx_notebook")
        fig = Figure(figsize=(2, 1))
        fig.add_subplot().plot([1, 2])
        data, _ = shell.display_formatter.format(fig)
        assert data["image/png"][:4] == b"\x89PNG"
        shell.run_line_magic("unload_ext", "wdbx_notebook")
        assert Figure not in png.type_printers
        assert ("matplotlib.figure", "Figure") not in png.deferred_printers

        # A formatter already there (the inline backend's) is kept, not replaced.
        def mine(fig: Any) -> bytes:
            return b"mine"

        png.for_type(Figure, mine)
        shell.run_line_magic("load_ext", "wdbx_notebook")
        assert png.lookup_by_type(Figure) is mine
        shell.run_line_magic("unload_ext", "wdbx_notebook")
        assert png.lookup_by_type(Figure) is mine
    finally:
        png.type_printers.clear()
        png.type_printers.update(before[0])
        png.deferred_printers.clear()
        png.deferred_printers.update(before[1])


def test_notebook_progress_shows_the_count_and_the_whole_name(shell: Any) -> None:
    class KernelShell:
        kernel = object()  # what tells the progress bar it runs in a kernel

    name = "build_df_slowly_from_the_parquet_files\u202e"
    with capture_output():
        progress = cell_module.Progress(KernelShell(), name, 20)
    assert progress.bar is not None
    label, bar, count = progress.bar_box.children
    assert label.value == "build_df_slowly_from_the_parquet_files\\u202e"  # whole, escaped
    progress.update(12, force=True)
    assert (bar.value, bar.max, count.value) == (12, 20, "12/20")
    progress.update(13)  # within 0.1 s of the last redraw: noted, drawn at close
    progress.close("warning")
    assert (bar.value, count.value, bar.bar_style) == (13, "13/20", "warning")


def test_alerts_show_one_banner_in_a_kernel_and_the_warning_elsewhere(
    shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings

    from wdbx_notebook import PerformanceWarning

    profiler = PerformanceProfiler(track_memory=False)

    def cross(name: str) -> tuple[list[Any], Any]:
        rule = profiler.add_alert(name, metric="call_count", above=0)
        with warnings.catch_warnings(record=True) as caught, capture_output() as shown:
            warnings.simplefilter("always")
            with profiler.profile_block(name):
                pass
            profiler.get_statistics(name)
        profiler.remove_alert(rule)
        return [w for w in caught if issubclass(w.category, PerformanceWarning)], shown

    shell.run_line_magic("load_ext", "wdbx_notebook")
    try:
        # A terminal shell: the banner listener shows nothing, the warning stays.
        warned, shown = cross("terminal_op")
        assert len(warned) == 1 and "terminal_op" in str(warned[0].message)
        assert shown.outputs == []
        # A kernel: the banner, and no warning besides it.
        monkeypatch.setattr(shell, "kernel", object(), raising=False)
        warned, shown = cross("kernel_op")
        assert warned == []
        (banner,) = shown.outputs
        assert "kernel_op" in banner.data["text/plain"]
        assert 'class="wdbx-alert-banner"' in banner.data["text/html"]
    finally:
        shell.run_line_magic("unload_ext", "wdbx_notebook")
    # Unloaded: no banner any more, the warning again.
    warned, shown = cross("unloaded_op")
    assert len(warned) == 1 and shown.outputs == []
