"""The comparison app without a kernel: controls, wiring, rendering, export, Live, fallback."""

from __future__ import annotations

import html
import itertools
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pytest

import wdbx_notebook
from wdbx_notebook import PerformanceProfiler
from wdbx_notebook.jupyter.widgets import (
    ComparisonWidget,
    comparison_table_text,
    comparison_widget,
    show_comparison,
)
from wdbx_notebook.plots import CHART_KINDS, METRICS, metric_value

MS = 1_000_000
PNG = b"\x89PNG"

# many calls of a fast operation, few of a slow one: mean and total order differ
DURATIONS = {
    "slow": [30 * MS, 40 * MS],
    "medium": [5 * MS] * 10,
    "fast": [1 * MS] * 200,
}


@pytest.fixture
def filled(profiler: PerformanceProfiler, timed_op: Any) -> PerformanceProfiler:
    for name, durations in DURATIONS.items():
        timed_op(name, durations)
    timed_op("flaky", [2 * MS] * 4, fail=frozenset({0, 1}))
    return profiler


@pytest.fixture
def app(filled: PerformanceProfiler) -> Iterator[ComparisonWidget]:
    widget = comparison_widget(profiler=filled, live_interval_s=0.1)
    yield widget
    widget.close()


def png(app: ComparisonWidget) -> bytes:
    return bytes(app.chart_image.value)


def table_order(app: ComparisonWidget) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'<tr data-operation="([^"]*)"', app.table.value)]


def test_layout_and_defaults(app: ComparisonWidget, filled: PerformanceProfiler) -> None:
    assert isinstance(app, widgets.VBox)
    _title, top, image, table, status = app.children
    assert image is app.chart_image and table is app.table and status is app.status
    select, controls = top.children
    assert select is app.operations_select
    assert app.metric in controls.children and app.chart in controls.children
    # all operations, slowest (highest mean) first, all selected
    names = ["slow", "medium", "flaky", "fast"]
    assert [value for _, value in app.operations_select.options] == names
    assert app.operations_select.value == tuple(names)
    assert [value for _, value in app.metric.options] == list(METRICS)
    assert [value for _, value in app.chart.options] == list(CHART_KINDS)
    assert app.metric.value == "mean" and app.chart.value == "bar"
    assert app.log_scale.disabled  # no log scale for bars
    assert app.render_count == 1 and app.last_error is None
    assert png(app).startswith(PNG)
    assert table_order(app) == names
    state = app.operations_select.get_state()
    assert state["index"] == (0, 1, 2, 3) and state["_options_labels"] == tuple(names)
    assert app.metric.get_state()["index"] == 0
    assert "wdbx-comparison" in app.get_state()["_dom_classes"]
    assert "4 operations, 216 calls" in app.status.value


@pytest.mark.parametrize("metric", list(METRICS))
def test_table_is_sorted_by_the_metric_worst_first(app: ComparisonWidget, metric: str) -> None:
    count = app.render_count
    app.metric.value = metric
    assert app.render_count == (count + 1 if metric != "mean" else count)
    m = METRICS[metric]
    stats = app.selected_statistics()
    expected = sorted(stats, key=lambda n: metric_value(stats[n], m), reverse=m.higher_is_worse)
    assert table_order(app) == expected
    assert f'data-sort-metric="{metric}"' in app.table.value
    assert app.last_error is None


def test_metric_changes_the_order_and_the_chart(app: ComparisonWidget) -> None:
    before_png = app.chart_image.value
    app.metric.value = "total"
    assert table_order(app)[0] == "fast"  # 200 x 1 ms beats 2 x 35 ms
    assert app.chart_image.value != before_png
    app.metric.value = "success_rate"
    assert table_order(app)[0] == "flaky"


def test_each_control_rerenders(app: ComparisonWidget) -> None:
    seen = {app.chart_image.value}
    for chart in CHART_KINDS[1:]:
        count = app.render_count
        app.chart.value = chart
        assert app.render_count == count + 1 and app.last_error is None
        assert app.chart_image.value not in seen
        seen.add(app.chart_image.value)
    assert not app.log_scale.disabled
    count = app.render_count
    app.log_scale.value = True
    assert app.render_count == count + 1 and app.chart_image.value not in seen
    count = app.render_count
    app.operations_select.value = ("slow", "fast")
    assert app.render_count == count + 1
    assert table_order(app) == ["slow", "fast"]
    count = app.render_count
    app.refresh_button.click()
    assert app.render_count == count + 1


def test_every_combination_renders(app: ComparisonWidget) -> None:
    for metric, chart, log in itertools.product(METRICS, CHART_KINDS, (False, True)):
        app.metric.value = metric
        app.chart.value = chart
        app.log_scale.value = log
        assert app.last_error is None, (metric, chart, log, app.last_error)
        assert png(app).startswith(PNG)
        assert "Could not draw" not in app.status.value


def test_empty_selection_and_empty_profiler(app: ComparisonWidget) -> None:
    app.operations_select.value = ()
    assert app.last_error is None and "No operations selected" in app.table.value
    assert png(app).startswith(PNG)

    empty = PerformanceProfiler(track_memory=False)
    blank = comparison_widget(profiler=empty)
    try:
        assert blank.operations_select.options == () and blank.last_error is None
        assert "nothing has been profiled yet" in blank.table.value
        for chart in CHART_KINDS:
            blank.chart.value = chart
            assert blank.last_error is None
        # profiling starts later: Refresh shows it, selected
        with empty.profile_block("late"):
            pass
        blank.refresh_button.click()
        assert blank.operations_select.value == ("late",)
        assert table_order(blank) == ["late"]
    finally:
        blank.close()


def test_one_operation(profiler: PerformanceProfiler, timed_op: Any) -> None:
    timed_op("only", [MS])
    app = comparison_widget(profiler=profiler)
    try:
        for metric, chart in itertools.product(METRICS, CHART_KINDS):
            app.metric.value, app.chart.value = metric, chart
            assert app.last_error is None
        assert table_order(app) == ["only"]
    finally:
        app.close()


def test_two_hundred_operations(profiler: PerformanceProfiler, timed_op: Any) -> None:
    for i in range(200):
        timed_op(f"operation_{i:03d}", [(i + 1) * 10_000])
    app = comparison_widget(profiler=profiler)
    try:
        assert len(app.operations_select.options) == 200
        assert app.operations_select.rows == 10  # a scrolling list, not a 200-row wall
        assert table_order(app)[:3] == ["operation_199", "operation_198", "operation_197"]
        assert len(table_order(app)) == 200
        for chart in CHART_KINDS:
            app.chart.value = chart
            assert app.last_error is None and png(app).startswith(PNG)
    finally:
        app.close()


def test_refresh_follows_new_operations(app: ComparisonWidget, filled: PerformanceProfiler) -> None:
    with filled.profile_block("new"):
        pass
    app.refresh()
    assert "new" in app.operations_select.value  # everything was selected: so is the newcomer
    app.operations_select.value = ("slow",)
    with filled.profile_block("newer"):
        pass
    app.refresh()
    assert "newer" in [v for _, v in app.operations_select.options]
    assert app.operations_select.value == ("slow",)  # a narrowed selection stays narrow


def test_explicit_operations_stay_fixed(filled: PerformanceProfiler) -> None:
    app = comparison_widget(["fast", "slow"], filled)
    try:
        assert [v for _, v in app.operations_select.options] == ["slow", "fast"]
        with filled.profile_block("new"):
            pass
        app.refresh()
        assert [v for _, v in app.operations_select.options] == ["slow", "fast"]
        assert table_order(app) == ["slow", "fast"]
    finally:
        app.close()


def test_export_writes_the_markdown_report(app: ComparisonWidget, tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    app.export_path.value = str(target)
    app.operations_select.value = ("slow", "fast")
    app.export_button.click()
    assert app.last_export_path == str(target) and app.last_error is None
    body = target.read_text(encoding="utf-8")
    assert body.startswith("# WDBX Performance Report")
    assert "| slow |" in body and "| fast |" in body and "| medium |" not in body
    assert html.escape(str(target)) in app.status.value
    assert app.export(tmp_path / "second.md") == str(tmp_path / "second.md")


def test_export_failure_is_shown_not_raised(app: ComparisonWidget, tmp_path: Path) -> None:
    assert app.export(tmp_path) is None  # a folder, not a file
    assert "file name" in (app.last_error or "")
    assert app.export(tmp_path / "missing" / "dir" / "r.md") is None
    assert "Could not" in app.status.value and app.last_error


def test_hostile_names_are_escaped(profiler: PerformanceProfiler, timed_op: Any) -> None:
    hostile = '<script>alert("x")</script> | `tick`\nline "q" & $x$'
    timed_op(hostile, [MS])
    app = comparison_widget(profiler=profiler)
    try:
        assert "<script>" not in app.table.value
        assert "&lt;script&gt;" in app.table.value
        assert table_order(app) == [hostile]
        ((label, value),) = app.operations_select.options
        assert value == hostile and "\n" not in label
        for chart in CHART_KINDS:
            app.chart.value = chart
            assert app.last_error is None
    finally:
        app.close()


def test_live_rerenders_only_when_calls_arrive(
    app: ComparisonWidget, filled: PerformanceProfiler
) -> None:
    app.live.value = True
    thread = app._live_thread
    assert thread is not None and thread.is_alive() and thread.daemon

    # the profiled code keeps running in a background thread
    def work() -> None:
        for _ in range(5):
            with filled.profile_block("background"):
                pass

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    deadline = time.monotonic() + 30
    while "background" not in table_order(app) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "background" in table_order(app) and app.last_error is None
    assert "live" in app.status.value
    # nothing new: the image is left alone (no flicker, no traffic)
    settled = app.render_count
    time.sleep(0.5)
    assert app.render_count == settled
    app.live.value = False
    assert app._live_thread is None and not thread.is_alive()


def test_close_stops_live(filled: PerformanceProfiler) -> None:
    app = comparison_widget(profiler=filled, live_interval_s=0.1)
    app.start_live()
    thread = app._live_thread
    assert app.live.value and thread is not None
    app.close()
    assert not thread.is_alive()


def test_bad_arguments(filled: PerformanceProfiler) -> None:
    with pytest.raises(ValueError, match="'mean'"):
        comparison_widget(profiler=filled, metric="avg")
    with pytest.raises(ValueError, match="'timeline'"):
        comparison_widget(profiler=filled, chart="pie")
    with pytest.raises(ValueError, match="live_interval_s"):
        comparison_widget(profiler=filled, live_interval_s=0)
    with pytest.raises(KeyError, match="did you mean 'slow'"):
        comparison_widget(["slwo"], filled)


def test_package_level_wrapper(filled: PerformanceProfiler) -> None:
    app = wdbx_notebook.comparison_widget(profiler=filled, metric="p95")
    try:
        assert isinstance(app, ComparisonWidget) and app.metric.value == "p95"
    finally:
        app.close()


def test_text_table(filled: PerformanceProfiler) -> None:
    text = comparison_table_text(profiler=filled)
    lines = text.splitlines()
    assert lines[0] == "OPERATION COMPARISON (sorted by Mean duration (ms), highest first)"
    assert [line.split()[0] for line in lines[3:]] == ["slow", "medium", "flaky", "fast"]
    assert "35.00" in lines[3]  # mean of 30 and 40 ms
    total = comparison_table_text(profiler=filled, metric="total").splitlines()
    assert total[3].startswith("fast")


def test_fallback_outside_a_kernel_prints_text(filled: PerformanceProfiler, capsys: Any) -> None:
    assert show_comparison(profiler=filled) is None
    out = capsys.readouterr().out
    assert out.startswith("OPERATION COMPARISON") and "slow" in out
    assert "<" not in out and "application/vnd.jupyter" not in out


def test_fallback_in_terminal_ipython(filled: PerformanceProfiler, capsys: Any) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert not hasattr(shell, "kernel")
        assert show_comparison(["slow", "fast"], filled) is None
        out = capsys.readouterr().out
        assert "slow" in out and "medium" not in out and "IPY_MODEL" not in out
    finally:
        InteractiveShell.clear_instance()


def test_under_a_kernel_the_app_is_displayed(filled: PerformanceProfiler, monkeypatch: Any) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shown: list[Any] = []
    try:
        monkeypatch.setattr(shell, "kernel", object(), raising=False)
        monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
        app = show_comparison(profiler=filled)
        assert isinstance(app, ComparisonWidget) and shown == [app]
        app.close()
    finally:
        InteractiveShell.clear_instance()
