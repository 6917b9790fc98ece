"""Rich display: mimebundles with text twins, highlighting, escaping and stability warnings."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
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
from wdbx_notebook.report.table import statistics_table
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


def test_profiler_bundle_title_counts_the_operations_its_table_shows() -> None:
    # The title's count comes from the same read as the table: an operation reset to
    # zero calls is in neither, and the title is the profiler's repr.
    profiler = _profiler()
    profiler.reset_statistics("flaky_io")
    bundle = profiler_bundle(profiler)
    title, table = bundle["text/plain"].split("\n", 1)
    assert title == repr(profiler) == "<PerformanceProfiler enabled, 2 operations>"
    assert "flaky_io" not in table and "slow_query" in table and "fast_lookup" in table
    profiler.disable()
    assert profiler_bundle(profiler)["text/plain"].startswith(
        "<PerformanceProfiler disabled, 2 operations>"
    )


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


# -- the one table: width, slow, empty values, numbers, escaping ----------------------------
def _many_columns_profiler() -> PerformanceProfiler:
    clock = FakeClock()
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    for name, ms in (("a_rather_long_operation_name.search_similar", 12.5), ("short", 0.3)):
        for _ in range(4):
            with profiler.profile_block(name):
                clock.advance_ms(ms)
    return profiler


def test_text_table_fits_80_columns_and_says_what_it_left_out() -> None:
    profiler = _many_columns_profiler()
    wide = statistics_text(profiler, width=200)
    narrow = statistics_text(profiler, width=80)
    table_lines = narrow.split("\n\n")[0].splitlines()
    assert all(len(line) <= 80 for line in table_lines), table_lines
    assert len(table_lines[1]) == len(table_lines[0]) and set(table_lines[1]) == {"-"}
    at = next(i for i, line in enumerate(table_lines) if line.startswith("(left out to fit 80"))
    left_out = " ".join(table_lines[at:]).split(": ", 1)[1].rstrip(")").split(", ")
    assert left_out
    for label in left_out:
        assert label in wide.splitlines()[0] and label not in table_lines[0]
    assert "(left out" not in wide
    # Numbers are right-aligned: each ends where its header ends.
    header = table_lines[0]
    row = next(line for line in table_lines if line.startswith("short"))
    end = header.index("Mean (ms)") + len("Mean (ms)")
    assert row[:end].endswith("0.30")


def test_stats_magic_width_follows_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    text = repr(StatisticsTable(_many_columns_profiler()))
    assert max(len(line) for line in text.split("\n\n")[0].splitlines()) <= 80


def test_slow_is_decided_over_all_operations_not_the_rows_shown() -> None:
    clock = FakeClock()
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    timings = [("slow", 0.5), ("medium", 1.5), ("crawl", 90.0), ("fast", 0.2)]
    timings += [(f"steady_{i}", 1.2) for i in range(6)]
    for name, ms in timings:
        for _ in range(3):
            with profiler.profile_block(name):
                clock.advance_ms(ms)
    subset = _parse(statistics_html(profiler, ["slow", "medium", "fast"]))
    classes = {cells[0].split()[0]: cls for cls, cells in subset.rows if cells}
    # Among these three rows "medium" stands out (3x their median, over 1 ms); over every
    # operation (median 1.2 ms) it does not, and the table says what the report says.
    assert set(classes) == {"slow", "medium", "fast"}
    assert not any("wdbx-slow" in cls for cls in classes.values())
    full = _parse(statistics_html(profiler))
    slow_rows = [cells[0] for cls, cells in full.rows if "wdbx-slow" in cls]
    assert slow_rows == ["crawl slow"]
    # An operation named "slow" is not marked slow, and its name is never a badge.
    html = statistics_html(profiler)
    assert '<span class="wdbx-name">slow</span></td>' in html
    assert html.count('class="wdbx-badge"') == 1
    text = statistics_text(profiler, width=120)
    slow_line = next(line for line in text.splitlines() if line.startswith("slow "))
    assert "<-" not in slow_line


def test_absolute_floor_for_slow() -> None:
    clock = FakeClock()
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    for name, ms in (("quick", 0.01), ("quicker", 0.001), ("relatively_slow", 0.5)):
        for _ in range(3):
            with profiler.profile_block(name):
                clock.advance_ms(ms)
    assert "wdbx-slow" not in statistics_html(profiler)  # 0.5 ms is never "slow"


def test_no_successful_call_reads_dash_in_every_view() -> None:
    profiler = _profiler()
    for _ in range(2):
        try:
            with profiler.profile_block("never_works"):
                raise OSError("down")
        except OSError:
            pass
    text = statistics_text(profiler, width=200)
    row = next(line for line in text.splitlines() if line.startswith("never_works"))
    assert row.split()[:4] == ["never_works", "2", "2", "—"]
    assert "0.00" not in row
    html_row = next(c for _, c in _parse(statistics_html(profiler)).rows if c and "never" in c[0])
    assert html_row[3:9] == ["—"] * 6
    table = statistics_table(profiler)
    markdown_row = next(line for line in table.to_markdown().splitlines() if "never" in line)
    assert "0.00" not in markdown_row and markdown_row.count("—") >= 7


def test_table_numbers_equal_numpy() -> None:
    rng = np.random.default_rng(11)
    durations = rng.integers(50_000, 30_000_000, size=240)
    clock = FakeClock()
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    for ns in durations:
        with profiler.profile_block("sampled"):
            clock.advance_ns(int(ns))
    ms = durations / 1e6
    table = statistics_table(profiler)
    (row,) = table.rows
    expected = {
        "call_count": "240",
        "avg_duration_ms": f"{np.mean(ms):.2f}",
        "median_duration_ms": f"{np.median(ms):.2f}",
        "p95_duration_ms": f"{np.percentile(ms, 95):.2f}",
        "p99_duration_ms": f"{np.percentile(ms, 99):.2f}",
        "max_duration_ms": f"{np.max(ms):.2f}",
        "std_duration_ms": f"{np.std(ms, ddof=1):.2f}",
        "success_rate": "100.0",
    }
    for key, text in expected.items():
        assert table.cell(row, key) == text, key
    html_cells = next(c for _, c in _parse(table.to_html()).rows if c)
    keys = [c.key for c in table.columns]
    for key, text in expected.items():
        assert html_cells[1 + keys.index(key)] == text, key
    markdown_row = next(line for line in table.to_markdown().splitlines() if "sampled" in line)
    assert (
        markdown_row.split(" | ")[1 + keys.index("p95_duration_ms")] == expected["p95_duration_ms"]
    )


@pytest.mark.parametrize(
    "name", ["x\u202egnp.exe", "zero\u200bwidth", "lone\ud800surrogate", "a\nb", "$5 | <i>"]
)
def test_every_table_format_neutralises_spoofing_names(name: str) -> None:
    profiler = PerformanceProfiler(track_memory=False)
    with profiler.profile_block(name):
        pass
    table = statistics_table(profiler)
    for rendered in (table.to_html(), table.to_text(120), table.to_markdown()):
        assert not any(ch in rendered for ch in "\u202e\u200b\ud800" if ch in name)
    if "\n" in name:
        assert "a\\nb" in table.to_text(120) and "a\\nb" in table.to_html()
        assert "| a b |" in table.to_markdown()  # the row stays one line
    assert "<i>" not in table.to_html() and "<i>" not in table.to_markdown()
    if "$" in name:
        assert "| \\$5 \\| &lt;i&gt; |" in table.to_markdown()  # no math, no split cell
    table.to_html().encode("utf-8")  # a lone surrogate cannot stop a save


def test_statistics_table_api_sorts_and_picks_columns() -> None:
    profiler = _profiler()
    table = statistics_table(profiler, sort_by="mean", columns=["call_count", "avg_duration_ms"])
    assert [r.name for r in table.rows] == ["slow_query", "flaky_io", "fast_lookup"]
    assert [c.label for c in table.columns] == ["Calls", "Mean (ms)"]
    ascending = statistics_table(profiler, sort_by="+calls")
    assert [r.name for r in ascending.rows] == ["flaky_io", "slow_query", "fast_lookup"]
    with pytest.raises(ValueError, match="choose one of"):
        statistics_table(profiler, sort_by="speed")
    with pytest.raises(ValueError, match="unknown column"):
        statistics_table(profiler, columns=["speed"])
    snapshot_table = statistics_table(profiler.snapshot())
    assert snapshot_table.to_text(200) == statistics_table(profiler).to_text(200)


def test_call_rate_needs_two_calls_and_large_rates_read_as_counts() -> None:
    clock = FakeClock()
    profiler = PerformanceProfiler(clock=clock, track_memory=False)
    with profiler.profile_block("once"):
        clock.advance_ns(1_000)
    for _ in range(1_000):
        with profiler.profile_block("often"):
            clock.advance_ns(1_000)
        clock.advance_ns(4_000)  # a call every 5 µs: 200,000 calls per second
    table = statistics_table(profiler, columns=["call_count", "calls_per_second"])
    rate = {row.name: table.cell(row, "calls_per_second") for row in table.rows}
    # 1,000 calls from the first start to the last end: 999 x 5 µs + 1 µs = 4,996 µs
    assert (
        rate
        == {"once": "—", "often": f"{1_000 / 4_996e-6:,.0f}"}
        == {
            "once": "—",
            "often": "200,160",
        }
    )


def test_dark_theme_safe_styles() -> None:
    html = statistics_html(_profiler())
    # No opaque light backgrounds and no fixed text colours that vanish on a dark page.
    assert "#fde8e8" not in html and "#f6b26b" not in html
    assert "background:#" not in html and "background-color:#" not in html
    assert re.search(r"[;\"]color:#", html) is None
    assert f"linear-gradient(90deg,{CSS.BAR}" in html and "transparent" in html
