"""Reports: layout, sections, recommendations and escaping in every format."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest

from wdbx_notebook import PerformanceReport, generate_performance_report
from wdbx_notebook._units import CSS
from wdbx_notebook.report.markdown import escape_markdown

HOSTILE = [
    "pipe|split",
    "`code` and ``more``",
    "<script>alert('x')</script>",
    "line\nbreak",
    "*bold* _it_ [link](http://x) #h",
    'quote"s & amp',
]


@pytest.fixture
def busy(profiler, clock, timed_op):
    """Operations that trigger every kind of recommendation."""
    timed_op("slow_search", [80_000_000, 90_000_000, 70_000_000])
    timed_op("fast_add", [20_000] * 10)
    timed_op("flaky_create", [5_000_000] * 8, fail=frozenset({2, 5}))
    timed_op("jittery", [1_000_000, 9_000_000, 1_000_000, 12_000_000, 1_000_000, 15_000_000])
    return profiler


def test_unknown_format_names_the_choices(profiler):
    with pytest.raises(ValueError, match="'text', 'markdown', 'html'"):
        generate_performance_report("pdf", profiler=profiler)
    with pytest.raises(ValueError):
        profiler.report("yaml")


def test_empty_profiler_reports_that_nothing_was_profiled(profiler):
    for fmt in ("text", "markdown", "html"):
        assert "No operations have been profiled yet." in generate_performance_report(fmt, profiler)


def test_text_report_sections_and_figures(busy):
    text = generate_performance_report(profiler=busy)
    assert text.startswith("WDBX PERFORMANCE REPORT\n" + "=" * 50)
    assert "Total Operations Profiled: 4" in text
    assert "Total Function Calls: 27" in text
    assert "Operations with Errors: 1" in text
    details = text.split("OPERATION DETAILS")[1].split("ERRORS")[0]
    rows = [line.split()[0] for line in details.strip().splitlines()[3:]]
    assert rows == ["slow_search", "jittery", "flaky_create", "fast_add"]  # slowest first
    errors = text.split("\nERRORS\n")[1].split("PERFORMANCE RECOMMENDATIONS")[0]
    assert re.search(r"flaky_create\s+2\s+25\.0\s+ValueError \(2\)", errors)
    recommendations = text.split("PERFORMANCE RECOMMENDATIONS")[1]
    assert "* Optimize slow_search: Average duration 80.00ms" in recommendations
    assert (
        "* Investigate failures in flaky_create: 2 of 8 calls failed (25.0%): ValueError (2)"
        in (recommendations)
    )
    assert "* Stabilize jittery:" in recommendations
    assert "Optimize fast_add" not in recommendations


def test_errors_section_only_when_something_failed(profiler, timed_op):
    timed_op("fine", [1_000_000])
    assert "ERRORS" not in generate_performance_report(profiler=profiler)
    assert "## Errors" not in generate_performance_report("markdown", profiler)
    assert "<h4>Errors" not in generate_performance_report("html", profiler)


def test_memory_recommendation_names_the_figure():
    from wdbx_notebook import PerformanceProfiler

    profiler = PerformanceProfiler()
    profiler._probe_for = lambda mode: iter(range(0, 10**12, 100 * 1024)).__next__  # type: ignore[method-assign]

    @profiler.profile("hungry")
    def hungry() -> None:
        pass

    for _ in range(3):
        hungry()
    text = generate_performance_report(profiler=profiler)
    assert (
        "* Review memory usage in hungry: Average impact 100.00 KiB per call over 3 calls" in text
    )


def test_markdown_report_tables(busy):
    md = generate_performance_report("markdown", busy)
    header = (
        "| Operation | Calls | Avg (ms) | P95 (ms) | Max (ms) | Mem (KiB) | Success % | Flags |"
    )
    assert header in md
    assert "| slow_search | 3 | 80.00 |" in md  # "_" inside a word needs no escape
    assert "## Errors" in md and "## Performance Recommendations" in md


def _table_cells(markdown: str, first_cell_prefix: str) -> list[str]:
    for line in markdown.splitlines():
        if line.startswith("| ") and first_cell_prefix in line:
            # Split on pipes that are not escaped.
            return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
    raise AssertionError(f"no row with {first_cell_prefix!r}")


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_cannot_break_a_markdown_table(profiler, timed_op, name):
    timed_op(name, [2_000_000], fail=frozenset({0}))
    timed_op(name, [2_000_000])
    md = generate_performance_report("markdown", profiler)
    escaped = escape_markdown(name)
    cells = _table_cells(md, escaped)
    assert len(cells) == 8  # the name stayed in one cell
    assert "<script>" not in md and "\nbreak" not in md
    assert "`" not in md.replace("\\`", "")  # every backtick is escaped


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_escaped_in_html(profiler, timed_op, name):
    timed_op(name, [2_000_000], fail=frozenset({0}))
    page = generate_performance_report("html", profiler)
    assert "<script>" not in page
    assert html.escape(name.replace("\n", "\\n")) in page  # a line break shows as \n


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_keep_text_rows_on_one_line(profiler, timed_op, name):
    timed_op(name, [2_000_000])
    text = generate_performance_report(profiler=profiler)
    details = text.split("OPERATION DETAILS")[1].split("PERFORMANCE")[0].strip().splitlines()
    assert len(details) == 4  # rule, header, rule, one row
    assert details[3].rstrip().endswith("100.0")


def test_long_names_are_shortened_in_the_text_table(profiler, timed_op):
    timed_op("x" * 80, [1_000_000])
    row = (
        generate_performance_report(profiler=profiler).split("OPERATION DETAILS")[1].splitlines()[4]
    )
    assert row.startswith("x" * 30 + "… ")


def test_report_object_formats_and_display(busy, tmp_path):
    report = busy.report("markdown")
    assert isinstance(report, PerformanceReport)
    bundle = report._repr_mimebundle_()
    assert bundle["text/plain"] == report.to_text()
    assert bundle["text/html"] == report.to_html()
    assert bundle["text/markdown"] == report.to_markdown()
    assert str(report) == report.to_markdown()
    md_path = report.save(tmp_path / "r.md")
    html_path = report.save(tmp_path / "r.html")
    txt_path = report.save(tmp_path / "r.txt")
    assert Path(md_path).read_text() == report.to_markdown()
    assert Path(html_path).read_text().startswith("<!DOCTYPE html>")
    assert Path(txt_path).read_text() == report.to_text()


def test_html_highlights_slow_and_failing_operations(busy):
    page = generate_performance_report("html", busy)
    assert 'class="wdbx-failing"' in page
    assert f"linear-gradient(90deg,{CSS.BAR} 100.0%" in page  # the slowest fills its bar


# -- escaping in every format ---------------------------------------------------------------
SPOOFING = [
    "x\u202egnp.exe",  # a right-to-left override: reads as "xexe.png"
    "zero\u200bwidth",
    "lone\ud800surrogate",
    "two\nlines",
    "price $5 to $10",
]


@pytest.mark.parametrize("name", SPOOFING)
def test_names_cannot_spoof_or_break_any_format(profiler, timed_op, tmp_path, name):
    timed_op(name, [2_000_000], fail=frozenset({0}))
    timed_op(name, [2_000_000])
    report = profiler.report()
    for rendered in (report.to_text(), report.to_markdown(), report.to_html()):
        for hidden in ("\u202e", "\u200b", "\ud800"):
            assert hidden not in rendered
    page = report.to_html()
    assert "x\\u202egnp.exe" in page or "\u202e" not in name  # shown as a visible escape
    markdown = report.to_markdown()
    if "$" in name:
        assert "price \\$5 to \\$10" in markdown  # Jupyter would render $...$ as math
    assert "\n" not in _table_cells(markdown, "| 2 |")[0]
    path = report.save(tmp_path / "r.html")  # no UnicodeEncodeError, even with a lone surrogate
    assert Path(path).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    report.save(tmp_path / "r.md")
    report.save(tmp_path / "r.txt")


def test_markdown_escapes_only_what_would_change_the_rendering():
    assert escape_markdown("load_csv") == "load_csv"
    assert escape_markdown("vector_store.search_similar") == "vector_store.search_similar"
    assert escape_markdown("_private") == "\\_private"  # "_" at a word's edge starts emphasis
    assert escape_markdown("a*b") == "a\\*b"
    assert escape_markdown("$x$") == "\\$x\\$"
    assert escape_markdown("a|b") == "a\\|b"
    assert escape_markdown("<b>&") == "&lt;b&gt;&amp;"
    assert escape_markdown("x\u202ey") == "x\\\\u202ey"  # visible, with its backslash escaped


def test_report_format_must_be_one_of_the_names():
    with pytest.raises(ValueError, match="'text', 'markdown', 'html'"):
        generate_performance_report(["text"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'text', 'markdown', 'html'"):
        PerformanceReport(None, {"text": 1})  # type: ignore[arg-type]


# -- empty values, numbers ----------------------------------------------------------------
def test_an_operation_without_a_successful_call_shows_dashes_not_zeros(profiler, timed_op):
    timed_op("always_fails", [3_000_000, 3_000_000], fail=frozenset({0, 1}))
    timed_op("fine", [1_000_000])
    report = profiler.report()
    text = report.to_text()
    row = next(line for line in text.splitlines() if line.startswith("always_fails "))
    assert row.split() == ["always_fails", "2", "—", "—", "—", "—", "0.0"]
    md_row = _table_cells(report.to_markdown(), "| always_fails |")
    assert md_row[2:6] == ["—", "—", "—", "—"]
    assert "0.00" not in "".join(md_row)
    html_rows = [r for r in report.to_html().split("<tr") if "always_fails" in r]
    assert html_rows and "0.00" not in html_rows[0] and html_rows[0].count("—") == 4
    # The statistics dict keeps its keys (the seed API's numbers).
    assert profiler.get_statistics("always_fails")["avg_duration_ms"] == 0.0


def test_report_figures_equal_numpy_on_the_same_data(profiler, timed_op):
    rng = np.random.default_rng(7)
    durations = [int(d) for d in rng.integers(100_000, 9_000_000, size=57)]
    timed_op("measured", durations)
    ms = np.array(durations) / 1e6
    text = profiler.report().to_text()
    row = next(line for line in text.splitlines() if line.startswith("measured ")).split()
    assert row[1] == "57"
    assert row[2] == f"{np.mean(ms):.2f}"
    assert row[3] == f"{np.percentile(ms, 95):.2f}"
    assert row[4] == f"{np.max(ms):.2f}"
    md = _table_cells(profiler.report().to_markdown(), "| measured |")
    assert md[1:5] == row[1:5]


def test_text_report_rules_are_as_wide_as_their_header(busy):
    lines = generate_performance_report(profiler=busy).splitlines()
    at = lines.index("OPERATION DETAILS")
    assert len(lines[at + 1]) == len(lines[at + 2]) == len(lines[at + 3])
    assert set(lines[at + 1]) == {"-"}
    errors = lines.index("ERRORS")
    assert len(lines[errors + 1]) == len(lines[errors + 2]) == len(lines[errors + 3])


def test_stability_notes_are_one_line_up_front_and_details_below(busy):
    report = busy.report()
    text = report.to_text()
    assert "Stability Notes: " in text.split("OPERATION DETAILS")[0]
    assert "NOTES" in text
    page = report.to_html()
    assert page.count('<details class="wdbx-warnings"') == 1
    summary = page.split("<summary")[1].split("</summary>")[0]
    assert "stability notes on 4 operations" in summary
    assert all(html.escape(n, quote=True) in page for n in report.data.notes)


# -- recommendations ------------------------------------------------------------------------
def _recommendations(profiler) -> dict[tuple[str, str], str]:
    return {(r.kind, r.operation): r.evidence for r in profiler.report().data.recommendations}


def test_optimize_needs_a_share_of_total_time(profiler, timed_op):
    timed_op("big_but_rare", [20_000_000])  # slow, but 2% of the time
    timed_op("busy_loop", [1_000_000] * 900 + [1_100_000] * 100)  # 990 ms in all
    timed_op("tiny", [10_000] * 5)
    advice = _recommendations(profiler)
    assert ("slow", "big_but_rare") not in advice
    timed_op("big_but_rare", [20_000_000] * 20)  # now 420 ms: 30% of the time
    advice = _recommendations(profiler)
    assert "% of all profiled time" in advice[("slow", "big_but_rare")]
    assert advice[("slow", "big_but_rare")].startswith("Average duration 20.00ms over 21 calls")


def test_stabilize_is_not_advised_for_sub_microsecond_operations(profiler, timed_op):
    timed_op("sub_micro", [200, 900, 150, 1_200, 100, 800, 90])  # jittery, but < 1 µs
    timed_op("jittery", [1_000_000, 9_000_000, 1_000_000, 12_000_000, 1_000_000, 15_000_000])
    advice = _recommendations(profiler)
    assert ("unstable", "sub_micro") not in advice
    assert "over 6 calls" in advice[("unstable", "jittery")]


def _memory_profiler(deltas: list[int]):
    from wdbx_notebook import PerformanceProfiler

    profiler = PerformanceProfiler()
    # Two readings per call (before, after): the call adds its delta, nothing between calls.
    readings = iter(np.cumsum([0] + [d for delta in deltas for d in (delta, 0)]).tolist())
    profiler._probe_for = lambda mode: lambda: int(next(readings))  # type: ignore[method-assign]

    @profiler.profile("cell")
    def cell() -> None:
        pass

    for _ in deltas:
        cell()
    return profiler


def test_a_leak_needs_growth_across_many_calls():
    # One big allocation kept (a DataFrame assigned once), then nothing: no leak.
    once = _memory_profiler([64 * 2**20] + [0] * 30)
    assert ("leak", "cell") not in _recommendations(once)
    # Too few calls, however much memory: no leak either.
    few = _memory_profiler([8 * 2**20] * 5)
    assert ("leak", "cell") not in _recommendations(few)
    # Steady growth over many calls: a leak, and the line says why.
    steady = _memory_profiler([1 * 2**20] * 30)
    evidence = _recommendations(steady)[("leak", "cell")]
    assert evidence == "30.00 MiB accumulated over 30 calls; memory grew in 30 of the last 30"


def test_step_findings_are_cached_until_new_calls_arrive(profiler, clock, monkeypatch):
    from wdbx_notebook import trends

    for i in range(120):
        with profiler.profile_block("lookup"):
            clock.advance_ns(1_000_000 if i < 80 else 2_000_000)
    runs: list[str] = []
    real = trends.detect_step_up

    def counting(source, name, **options):
        runs.append(name)
        return real(source, name, **options)

    monkeypatch.setattr(trends, "detect_step_up", counting)
    first = profiler.report().to_text()
    assert "* Find what slowed down lookup" in first
    assert profiler.report().to_text().count("Find what slowed down") == 1
    assert runs == ["lookup"]  # the second report reused the finding
    with profiler.profile_block("lookup"):
        clock.advance_ns(2_000_000)
    profiler.report()
    assert runs == ["lookup", "lookup"]  # a new call: tested again
