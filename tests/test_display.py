"""Rich display: mimebundles with text twins, highlighting, escaping and stability warnings."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from wdbx_notebook import PerformanceProfiler, PerformanceReport
from wdbx_notebook._clock import FakeClock
from wdbx_notebook._units import CSS
from wdbx_notebook.jupyter.display import (
    StatisticsTable,
    markdown_bundle,
    profiler_bundle,
    statistics_bundle,
    statistics_html,
    statistics_text,
)
from wdbx_notebook.stability import stability_warnings


class _Cells(HTMLParser):
    """Collects table rows (class and cell texts) and every start tag."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append((dict(attrs).get("class") or "", []))
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1][1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parse(html: str) -> _Cells:
    parser = _Cells()
    parser.feed(html)
    return parser


def html_of(profiler: PerformanceProfiler) -> str:
    return statistics_html(profiler)


def _profiler() -> PerformanceProfiler:
    clock = FakeClock()
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    for ms in (40.0, 50.0, 60.0):
        with profiler.profile_block("slow_query"):
            clock.advance_ms(ms)
    for _ in range(30):
        with profiler.profile_block("fast_lookup"):
            clock.advance_ms(0.2)
    for fail in (True, False):
        try:
            with profiler.profile_block("flaky_io"):
                clock.advance_ms(0.5)
                if fail:
                    raise TimeoutError("late")
        except TimeoutError:
            pass
    return profiler


def test_profiler_bundle_has_text_and_html() -> None:
    profiler = _profiler()
    bundle = profiler._repr_mimebundle_()
    assert bundle == profiler_bundle(profiler)
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"].startswith("<PerformanceProfiler enabled, 3 operations>")
    for name in ("slow_query", "fast_lookup", "flaky_io"):
        assert name in bundle["text/plain"]
        assert name in bundle["text/html"]


def test_statistics_html_rows_carry_the_numbers_and_highlights() -> None:
    profiler = _profiler()
    parsed = _parse(statistics_html(profiler))
    body = [row for row in parsed.rows if row[1]]
    assert [cells[0].split()[0] for _, cells in body] == ["slow_query", "fast_lookup", "flaky_io"]
    classes = {cells[0].split()[0]: cls for cls, cells in body}
    assert "wdbx-slow" in classes["slow_query"]
    assert "wdbx-slow" not in classes["fast_lookup"]
    assert "wdbx-failing" in classes["flaky_io"]
    assert "wdbx-ok" in classes["slow_query"]
    slow_cells = body[0][1]
    # The badge is its own element beside the name, not part of it.
    assert slow_cells[0] == "slow_query slow"
    assert '<span class="wdbx-name">slow_query</span> <span class="wdbx-badge"' in html_of(profiler)
    assert slow_cells[1] == "3"  # calls
    assert slow_cells[3] == "50.00"  # mean, from 40/50/60 ms
    assert body[2][1][2] == "1"  # flaky_io: one failure
    html = statistics_html(profiler)
    # The mean cell's bar: full for the slowest mean, proportional for the others.
    assert f"{CSS.BAR} 100.0%" in html
    assert f"{CSS.BAR} {0.2 / 50 * 100:.1f}%" in html
    assert "Failures in flaky_io: TimeoutError (1)" in html
    assert re.search(
        f'<tr class="wdbx-failing" style="[^"]*background-color:{re.escape(CSS.FAIL_TINT)}"', html
    )


def test_statistics_text_marks_slow_and_failing_operations() -> None:
    text = statistics_text(_profiler())
    lines = {
        line.split()[0]: line
        for line in text.splitlines()
        if line and line.split()[0] in ("slow_query", "fast_lookup", "flaky_io")
    }
    assert lines["slow_query"].endswith("<- slow")
    assert lines["flaky_io"].endswith("<- failing")
    assert "Failures in flaky_io: TimeoutError (1)" in text.splitlines()
    assert "<-" not in lines["fast_lookup"]
    assert "50.00" in lines["slow_query"]


def test_stability_warnings_are_shown_under_both_tables() -> None:
    profiler = _profiler()
    expected = stability_warnings("slow_query", profiler.get_statistics("slow_query"))
    assert expected  # three calls: too few for a p95
    bundle = statistics_bundle(profiler)
    assert "Stability warnings:" in bundle["text/plain"]
    for warning in expected:
        assert warning in bundle["text/plain"]
        assert warning.replace("'", "&#x27;") in bundle["text/html"]
    assert 'class="wdbx-warnings"' in bundle["text/html"]


def test_hostile_names_are_escaped() -> None:
    profiler = PerformanceProfiler(track_memory=False)
    names = ["<script>alert(1)</script>", "a|b", "`tick`", "two\nlines", 'q"uote']
    for name in names:
        with profiler.profile_block(name):
            pass
    bundle = profiler_bundle(profiler)
    html = bundle["text/html"]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "script" not in _parse(html).tags
    text = bundle["text/plain"]
    assert "two\\nlines" in text  # the newline cannot break the table's rows
    assert all(line.count("\n") == 0 for line in text.splitlines())
    cells = [cells[0] for _, cells in _parse(html).rows if cells]
    assert cells == [name.replace("\n", "\\n") for name in names]  # a line break shows as \n


def test_empty_profiler_displays_a_sentence() -> None:
    bundle = profiler_bundle(PerformanceProfiler())
    assert "No operations have been profiled yet." in bundle["text/plain"]
    assert "No operations have been profiled yet." in bundle["text/html"]


def test_statistics_table_object() -> None:
    profiler = _profiler()
    table = StatisticsTable(profiler, ["flaky_io"])
    bundle = table._repr_mimebundle_()
    assert "flaky_io" in bundle["text/html"] and "slow_query" not in bundle["text/html"]
    assert repr(table) == bundle["text/plain"]
    assert list(table.dataframe.index) == ["flaky_io"]
    assert table.dataframe.loc["flaky_io", "error_count"] == 1
    with pytest.raises(KeyError, match="did you mean"):
        StatisticsTable(profiler, ["flaky_oi"])
    with pytest.raises(TypeError, match="list"):
        StatisticsTable(profiler, "flaky_io")  # type: ignore[arg-type]


def test_markdown_bundle_and_report_bundle() -> None:
    assert markdown_bundle("| a |") == {"text/markdown": "| a |", "text/plain": "| a |"}
    report = PerformanceReport(_profiler(), "markdown")
    bundle = report._repr_mimebundle_()
    assert bundle["text/plain"] == report.to_text()
    assert bundle["text/markdown"] == report.to_markdown()
    assert "flaky_io" in bundle["text/html"]


def test_display_module_does_not_import_ipython() -> None:
    code = (
        "import sys, wdbx_notebook.jupyter.display as d, wdbx_notebook as w;"
        "d.profiler_bundle(w.PerformanceProfiler());"
        "print(sorted(m for m in ('IPython', 'ipywidgets', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_styled_dataframe_has_bars_tints_and_escaped_names() -> None:
    profiler = _profiler()
    with profiler.profile_block("<b>bold</b>"):
        pass
    styler = StatisticsTable(profiler).styled()
    assert list(styler.data.index) == ["slow_query", "fast_lookup", "flaky_io", "<b>bold</b>"]
    assert styler.data.loc["slow_query", "avg_duration_ms"] == pytest.approx(50.0)
    html = styler.to_html()
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    assert CSS.BAR in html  # the bar on the mean duration
    failing_row = list(styler.data.index).index("flaky_io")
    tint = re.escape(CSS.FAIL_TINT)
    tinted = re.findall(r"([^{}]*)\{\s*background-color: " + tint + r";\s*\}", html)
    assert len(tinted) == 1 and f"_row{failing_row}_col0" in tinted[0]
    assert f"_row{failing_row}_col2" not in tinted[0]  # the mean's bar stays
