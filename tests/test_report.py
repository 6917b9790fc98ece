"""Reports: layout, sections, recommendations and escaping in every format."""

from __future__ import annotations

import html
import re
from pathlib import Path

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
