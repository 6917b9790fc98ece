"""The comparison app without a kernel: controls, wiring, state, export, Live, fallbacks.

Most tests hand the app a cheap chart renderer that records what it was asked
to draw, and check the app's state (``get_state()``, children, values, the
requests); ``test_plots.py`` checks what the charts draw, and one end-to-end
test here draws the real PNGs.
"""

from __future__ import annotations

import gc
import hashlib
import html
import itertools
import re
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pytest
from ipywidgets.widgets.widget import _instances
from traitlets import TraitError

import wdbx_notebook
from wdbx_notebook import PerformanceProfiler, load_session
from wdbx_notebook.jupyter.figures import Chart, ChartRequest, PngChartRenderer
from wdbx_notebook.jupyter.widgets import (
    ComparisonWidget,
    OperationSelect,
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


class RecordingRenderer:
    """A cheap renderer: 'PNG' bytes that differ exactly when the request differs."""

    def __init__(self) -> None:
        self.requests: list[ChartRequest] = []

    def render(self, request: ChartRequest) -> Chart:
        self.requests.append(request)
        digest = hashlib.sha256(repr(request.key()).encode()).digest()
        return Chart(PNG + digest, 640)


@pytest.fixture
def filled(profiler: PerformanceProfiler, timed_op: Any) -> PerformanceProfiler:
    for name, durations in DURATIONS.items():
        timed_op(name, durations)
    timed_op("flaky", [2 * MS] * 4, fail=frozenset({0, 1}))
    return profiler


@pytest.fixture
def renderer() -> RecordingRenderer:
    return RecordingRenderer()


@pytest.fixture
def app(filled: PerformanceProfiler, renderer: RecordingRenderer) -> Iterator[ComparisonWidget]:
    widget = comparison_widget(profiler=filled, live_interval_s=0.1, renderer=renderer)
    yield widget
    widget.close()


def png(app: ComparisonWidget) -> bytes:
    return bytes(app.chart_image.value)


def table_order(app: ComparisonWidget) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'<tr data-operation="([^"]*)"', app.table.value)]


def options(app: ComparisonWidget) -> list[str]:
    return [value for _, value in app.operations_select.options]


def test_layout_and_defaults(
    app: ComparisonWidget, filled: PerformanceProfiler, renderer: RecordingRenderer
) -> None:
    assert isinstance(app, widgets.VBox)
    _title, top, image, table, status = app.children
    assert image is app.chart_image and table is app.table and status is app.status
    select, controls = top.children
    assert select is app.operations_select and isinstance(select, OperationSelect)
    assert app.metric in controls.children and app.chart in controls.children
    # all operations, slowest (highest mean) first, all selected
    names = ["slow", "medium", "flaky", "fast"]
    assert options(app) == names
    assert app.operations_select.value == tuple(names)
    assert [value for _, value in app.metric.options] == list(METRICS)
    assert [value for _, value in app.chart.options] == list(CHART_KINDS)
    assert app.metric.value == "mean" and app.chart.value == "bar"
    assert not app.log_scale.disabled and not app.log_scale.value  # log scale for bars too
    assert app.render_count == 1 and app.last_error is None
    (request,) = renderer.requests
    assert (request.kind, request.metric, request.log_scale) == ("bar", "mean", False)
    assert request.names == tuple(names) and set(request.stats) == set(names)
    assert request.stats["slow"]["avg_duration_ms"] == pytest.approx(35.0)
    assert png(app).startswith(PNG) and app.chart_image.width == "640"
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


def test_table_values_match_numpy(app: ComparisonWidget) -> None:
    cells = dict(
        re.findall(r'data-metric="(\w+)">([^<]*)</td>', app.table.value.split("<tr")[2])
    )  # the first row: "slow"
    assert float(cells["mean"]) == pytest.approx(np.mean([30, 40]))
    assert float(cells["p95"]) == pytest.approx(np.percentile([30, 40], 95), abs=0.01)
    assert float(cells["total"]) == pytest.approx(70.0)
    assert float(cells["success_rate"]) == 100.0


def test_metric_changes_the_table_and_the_bars_but_not_the_list(
    app: ComparisonWidget, renderer: RecordingRenderer
) -> None:
    before_png, before_list = app.chart_image.value, options(app)
    app.metric.value = "total"
    assert table_order(app)[0] == "fast"  # 200 x 1 ms beats 2 x 35 ms
    assert renderer.requests[-1].metric == "total"
    assert app.chart_image.value != before_png
    app.metric.value = "success_rate"
    assert table_order(app)[0] == "flaky"
    # the operations list the user follows never moves with the metric
    assert options(app) == before_list
    assert app.operations_select.value == tuple(before_list)


def test_each_control_rerenders(app: ComparisonWidget, renderer: RecordingRenderer) -> None:
    seen = {app.chart_image.value}
    for chart in CHART_KINDS[1:]:
        count = app.render_count
        app.chart.value = chart
        assert app.render_count == count + 1 and app.last_error is None
        assert renderer.requests[-1].kind == chart
        assert app.chart_image.value not in seen
        seen.add(app.chart_image.value)
    count = app.render_count
    app.log_scale.value = True
    assert app.render_count == count + 1 and app.chart_image.value not in seen
    assert renderer.requests[-1].log_scale is True
    count = app.render_count
    app.operations_select.value = ("slow", "fast")
    assert app.render_count == count + 1
    assert table_order(app) == ["slow", "fast"]
    assert renderer.requests[-1].names == ("slow", "fast")
    count = app.render_count
    app.refresh_button.click()
    assert app.render_count == count + 1


def test_log_scale_stays_usable_for_every_chart(
    app: ComparisonWidget, renderer: RecordingRenderer
) -> None:
    app.chart.value = "box"
    app.log_scale.value = True
    app.chart.value = "bar"  # never "ticked but greyed": bars take the log scale too
    assert app.log_scale.value and not app.log_scale.disabled
    assert (renderer.requests[-1].kind, renderer.requests[-1].log_scale) == ("bar", True)


def test_every_combination_is_requested(app: ComparisonWidget, renderer: RecordingRenderer) -> None:
    for metric, chart, log in itertools.product(METRICS, CHART_KINDS, (False, True)):
        app.metric.value = metric
        app.chart.value = chart
        app.log_scale.value = log
        assert app.last_error is None, (metric, chart, log, app.last_error)
        request = app.chart_request()
        assert (request.kind, request.log_scale, request.metric) == (chart, log, metric)
        # the image is the chart of exactly these controls (drawn now, or earlier and kept)
        assert png(app) == PNG + hashlib.sha256(repr(request.key()).encode()).digest()
        assert "Could not draw" not in app.status.value
    # flipping back reuses the drawn chart: each distinct chart was drawn once
    keys = [r.key() for r in renderer.requests]
    assert len(keys) == len(set(keys))


def test_chart_order_follows_the_list(app: ComparisonWidget, renderer: RecordingRenderer) -> None:
    app.chart.value = "violin"
    app.metric.value = "total"
    # distributions keep the list's order, whatever the metric
    assert renderer.requests[-1].names == tuple(options(app))


def test_renderer_failure_is_shown_not_raised(filled: PerformanceProfiler) -> None:
    class Broken:
        def render(self, request: ChartRequest) -> Chart:
            raise RuntimeError("no chart today")

    app = comparison_widget(profiler=filled, renderer=Broken())
    try:
        assert app.last_error == "RuntimeError: no chart today"
        assert "Could not draw the comparison" in app.status.value
        assert "wdbx-compare-error" in app.status.value
    finally:
        app.close()
    with pytest.raises(TypeError, match="render"):
        comparison_widget(profiler=filled, renderer=object())


def test_empty_selection_and_empty_profiler(
    app: ComparisonWidget, renderer: RecordingRenderer
) -> None:
    app.operations_select.value = ()
    assert app.last_error is None and "No operations selected" in app.table.value
    assert renderer.requests[-1].names == ()

    empty = PerformanceProfiler(track_memory=False)
    blank = comparison_widget(profiler=empty, renderer=renderer)
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


def test_operation_without_a_successful_call_shows_dashes(
    profiler: PerformanceProfiler, timed_op: Any, renderer: RecordingRenderer
) -> None:
    timed_op("ok", [MS])
    timed_op("broken", [MS, MS], fail=frozenset({0, 1}))
    app = comparison_widget(profiler=profiler, renderer=renderer)
    try:
        row = app.table.value.split('data-operation="broken"')[1].split("</tr>")[0]
        cells = dict(re.findall(r'data-metric="(\w+)">([^<]*)</td>', row))
        assert cells["success_rate"] == "0.0"
        if profiler.get_statistics("broken").get("avg_duration_ms") is None:
            assert cells["mean"] == "—"  # no duration is not a zero duration
        assert table_order(app)[-1] in ("broken", "ok")
    finally:
        app.close()


def test_many_operations(profiler: PerformanceProfiler, timed_op: Any) -> None:
    for i in range(200):
        timed_op(f"operation_{i:03d}", [(i + 1) * 10_000])
    renderer = RecordingRenderer()
    app = comparison_widget(profiler=profiler, renderer=renderer)
    try:
        assert len(app.operations_select.options) == 200
        assert app.operations_select.rows == 10  # a scrolling list, not a 200-row wall
        assert table_order(app)[:3] == ["operation_199", "operation_198", "operation_197"]
        assert len(table_order(app)) == 200
        assert app.operations_select.get_state()["index"] == tuple(range(200))
        assert len(renderer.requests[-1].names) == 200
    finally:
        app.close()


def test_operation_select_is_a_select_multiple() -> None:
    """The fast lookups keep SelectMultiple's meaning: values, labels, index, errors."""
    names = [f"op{i}" for i in range(1000)]
    select = OperationSelect(options=[(f"label {n}", n) for n in names], value=("op5", "op999"))
    assert select.index == (5, 999) and select.label == ("label op5", "label op999")
    select.value = tuple(names)
    assert select.index == tuple(range(1000))
    select.label = ("label op1",)
    assert select.value == ("op1",) and select.index == (1,)
    select.index = (3, 2)
    assert select.value == ("op3", "op2")
    with pytest.raises(TraitError, match="value not found"):
        select.value = ("missing",)
    with pytest.raises(TraitError, match="label not found"):
        select.label = ("missing",)
    select.options = [("a", "x"), ("b", "y")]
    assert select.value == () and select.index == ()
    select.value = ("y",)
    assert select.index == (1,)
    select.close()


def _watch(app: ComparisonWidget) -> list[str]:
    changed: list[str] = []
    app.operations_select.observe(lambda c: changed.append(c["name"]), names=["options", "index"])
    return changed


def test_refresh_with_unchanged_order_leaves_the_list_alone(
    app: ComparisonWidget, filled: PerformanceProfiler
) -> None:
    app.operations_select.value = ("slow", "fast")
    changed = _watch(app)
    before = app.operations_select.get_state()
    with filled.profile_block("fast"):  # a new call, the order stays
        pass
    app.refresh()
    assert changed == []  # no options or selection traffic to the front end
    assert app.operations_select.get_state() == before
    assert table_order(app) == ["slow", "fast"]
    assert app.selected_statistics()["fast"]["call_count"] == 201


def test_refresh_with_changed_order_resorts_and_keeps_the_selection(
    app: ComparisonWidget, filled: PerformanceProfiler, timed_op: Any
) -> None:
    app.operations_select.value = ("medium", "fast")
    timed_op("fast", [500 * MS] * 200)  # fast is now the slowest by mean
    timed_op("newcomer", [MS])
    app.refresh()
    assert options(app) == ["fast", "slow", "medium", "flaky", "newcomer"]
    state = app.operations_select.get_state()
    assert state["_options_labels"] == ("fast", "slow", "medium", "flaky", "newcomer")
    # the same operations stay selected, at their new places; the newcomer is not
    assert app.operations_select.value == ("fast", "medium") and state["index"] == (0, 2)
    # with everything selected, a newcomer is selected too
    app.operations_select.value = tuple(options(app))
    timed_op("later", [MS])
    app.refresh()
    assert "later" in app.operations_select.value
    assert len(app.operations_select.value) == len(options(app)) == 6


def test_live_keeps_the_order_and_appends_newcomers(
    app: ComparisonWidget,
    filled: PerformanceProfiler,
    timed_op: Any,
    renderer: RecordingRenderer,
) -> None:
    before = options(app)
    bars = renderer.requests[-1].order
    assert bars == ("slow", "medium", "flaky", "fast")
    timed_op("fast", [500 * MS] * 200)  # would sort first
    timed_op("newcomer", [MS])
    app._live_tick()
    assert options(app) == [*before, "newcomer"]  # Live never reorders the list
    assert "newcomer" in app.operations_select.value  # all were selected
    assert renderer.requests[-1].order == (*bars, "newcomer")  # nor the bars
    assert table_order(app)[0] == "fast"  # the table is sorted by the metric, as it says
    app.metric.value = "p95"  # the user's action sorts the bars again
    assert renderer.requests[-1].order[0] == "fast"
    count = app.render_count
    app._live_tick()  # nothing new: nothing redrawn
    assert app.render_count == count


def test_refresh_follows_new_operations(app: ComparisonWidget, filled: PerformanceProfiler) -> None:
    with filled.profile_block("new"):
        pass
    app.refresh()
    assert "new" in app.operations_select.value  # everything was selected: so is the newcomer
    app.operations_select.value = ("slow",)
    with filled.profile_block("newer"):
        pass
    app.refresh()
    assert "newer" in options(app)
    assert app.operations_select.value == ("slow",)  # a narrowed selection stays narrow


def test_explicit_operations_stay_fixed(
    filled: PerformanceProfiler, renderer: RecordingRenderer
) -> None:
    app = comparison_widget(["fast", "slow"], filled, renderer=renderer)
    try:
        assert options(app) == ["slow", "fast"]
        with filled.profile_block("new"):
            pass
        app.refresh()
        assert options(app) == ["slow", "fast"]
        assert table_order(app) == ["slow", "fast"]
    finally:
        app.close()


def test_a_saved_session_is_a_source(
    filled: PerformanceProfiler, renderer: RecordingRenderer, tmp_path: Path
) -> None:
    saved = load_session(filled.save(tmp_path / "s.json"))
    app = comparison_widget(profiler=saved, renderer=renderer)
    try:
        assert options(app) == ["slow", "medium", "flaky", "fast"]
        assert app.snapshot is saved
        live = comparison_widget(profiler=filled, renderer=RecordingRenderer())
        try:
            assert app.table.value == live.table.value  # the same numbers
        finally:
            live.close()
        app.refresh()
        assert app.last_error is None and app.snapshot is saved
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


HOSTILE = '<script>alert("x")</script> | `tick`\nline "q" & $x$ \u202egnp.exe'


def test_hostile_names_are_escaped(
    profiler: PerformanceProfiler, timed_op: Any, renderer: RecordingRenderer
) -> None:
    timed_op(HOSTILE, [MS])
    app = comparison_widget(profiler=profiler, renderer=renderer)
    try:
        for text in (app.table.value, app.static_bundle()["text/html"]):
            assert "<script>" not in text and "&lt;script&gt;" in text
            assert "\u202e" not in text
        assert table_order(app) == [HOSTILE]
        ((label, value),) = app.operations_select.options
        assert value == HOSTILE and "\n" not in label and "\u202e" not in label
        plain = app.static_bundle()["text/plain"]
        assert "\n" not in plain.splitlines()[3] and "\u202e" not in plain
    finally:
        app.close()


def test_theme_colours_come_from_jupyterlab(app: ComparisonWidget) -> None:
    table = app.table.value
    # the sorted column's header follows the theme (it was white on white in the dark theme)
    assert re.search(r"th\.wdbx-sorted\{background:var\(--jp-layout-color2", table)
    assert 'class=wdbx-sorted data-metric="mean"' in table
    assert "color:var(--jp-ui-font-color0" in table
    assert not re.search(r"#e8eef8(?!\))", table.replace("var(--jp-layout-color2,#e8eef8)", ""))
    app.export(Path("/nonexistent/dir/x.md"))
    assert "border-left:4px solid var(--jp-error-color1" in app.status.value
    # the table scrolls on its own instead of being cut off by the output area
    assert '<div class="wdbx-compare-scroll">' in table and "overflow-x:auto" in table
    assert app.export_button.layout.min_width == "max-content"  # the label never shrinks


def test_static_twin_for_exports(app: ComparisonWidget) -> None:
    bundle = app.static_bundle()
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"].startswith("OPERATION COMPARISON")
    page = bundle["text/html"]
    assert 'data-sort-metric="mean"' in page and "data:image/png;base64," in page
    assert f"wdbx-static-{app.model_id}" in page
    # the app, when rendered, hides its twin
    app._repr_mimebundle_()
    assert f".wdbx-static-{app.model_id}{{display:none}}" in app.children[0].value


def test_displayed_app_leaves_a_static_twin(
    filled: PerformanceProfiler, renderer: RecordingRenderer
) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    published: list[tuple[dict[str, Any], dict[str, Any]]] = []
    try:
        shell.display_pub.publish = (  # type: ignore[method-assign]
            lambda data, metadata=None, **kw: published.append((data, kw.get("transient") or {}))
        )
        app = comparison_widget(profiler=filled, renderer=renderer)
        from IPython.display import display

        display(app)
        (view, _), (static, transient) = published
        assert view["application/vnd.jupyter.widget-view+json"]["model_id"] == app.model_id
        assert (
            "wdbx-static" in static["text/html"] and "OPERATION COMPARISON" in static["text/plain"]
        )
        assert transient["display_id"] == f"wdbx-static-{app.model_id}"
        # a later redraw updates the twin in place
        app.metric.value = "total"
        update, _ = published[-1]
        assert 'data-sort-metric="total"' in update["text/html"]
        app.close()
    finally:
        InteractiveShell.clear_instance()


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


def test_close_stops_live(filled: PerformanceProfiler, renderer: RecordingRenderer) -> None:
    app = comparison_widget(profiler=filled, live_interval_s=0.1, renderer=renderer)
    app.start_live()
    thread = app._live_thread
    assert app.live.value and thread is not None
    app.close()
    assert not thread.is_alive()


def test_a_dropped_live_app_stops_its_thread(
    filled: PerformanceProfiler, renderer: RecordingRenderer
) -> None:
    app = comparison_widget(profiler=filled, live_interval_s=0.1, renderer=renderer)
    app.start_live()
    thread = app._live_thread
    assert thread is not None and thread.is_alive()
    ref = weakref.ref(app)
    # ipywidgets (its registry and the comm manager) holds every open widget until it is
    # closed; once they let go of the app and its parts, only the Live thread is left,
    # and it must not keep the app alive
    tree: list[widgets.Widget] = [app]
    for widget in tree:
        tree.extend(getattr(widget, "children", ()))
    for widget in tree:
        _instances.pop(widget.model_id)
        widget.comm.close()  # the comm manager lets go of it
    del app, tree, widget
    gc.collect()
    assert ref() is None
    thread.join(timeout=5)
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


def test_package_level_wrapper(filled: PerformanceProfiler, renderer: RecordingRenderer) -> None:
    app = wdbx_notebook.comparison_widget(profiler=filled, metric="p95", renderer=renderer)
    try:
        assert isinstance(app, ComparisonWidget) and app.metric.value == "p95"
    finally:
        app.close()


def test_text_table(filled: PerformanceProfiler) -> None:
    text = comparison_table_text(profiler=filled, width=80)
    lines = text.splitlines()
    assert lines[0] == "OPERATION COMPARISON (sorted by Mean duration (ms), highest first)"
    assert [line.split()[0] for line in lines[3:7]] == ["slow", "medium", "flaky", "fast"]
    assert "35.00" in lines[3]  # mean of 30 and 40 ms
    assert max(map(len, lines)) <= 80 and "left out to fit 80 columns" in text
    wide = comparison_table_text(profiler=filled, width=200)
    assert "left out" not in wide and "Calls/s" in wide
    total = comparison_table_text(profiler=filled, metric="total").splitlines()
    assert total[3].startswith("fast")


def test_fallback_outside_a_kernel_prints_text(filled: PerformanceProfiler, capsys: Any) -> None:
    assert show_comparison(profiler=filled) is None
    out = capsys.readouterr().out
    assert out.startswith("OPERATION COMPARISON") and "slow" in out
    assert "<table" not in out and "<div" not in out and "application/vnd.jupyter" not in out


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
        app = show_comparison(profiler=filled, renderer=RecordingRenderer())
        assert isinstance(app, ComparisonWidget) and shown == [app]
        app.close()
    finally:
        InteractiveShell.clear_instance()


# -- the real charts, end to end ---------------------------------------------------------
def test_real_charts_end_to_end(filled: PerformanceProfiler) -> None:
    """The default renderer draws every chart as a PNG, and a Live redraw with the same
    operations updates the figure it has instead of building a new one."""
    renderer = PngChartRenderer()
    app = comparison_widget(profiler=filled, renderer=renderer)
    try:
        assert isinstance(app.renderer, PngChartRenderer)
        drawn = set()
        for chart, log in itertools.product(CHART_KINDS, (False, True)):
            app.chart.value, app.log_scale.value = chart, log
            assert app.last_error is None, (chart, log, app.last_error)
            assert png(app).startswith(PNG) and int(app.chart_image.width) > 500
            drawn.add(png(app))
        assert len(drawn) == 2 * len(CHART_KINDS)
        app.log_scale.value = False
        app.chart.value = "bar"

        def slow_calls(count: int) -> None:
            for _ in range(count):
                with filled.profile_block("slow"):
                    filled._clock.advance_ns(80 * MS)  # type: ignore[attr-defined]

        slow_calls(1)
        app._live_tick()
        built = renderer.figures_built
        # new calls, same operations and order: the bars' figure is updated in place
        slow_calls(2)
        app._live_tick()
        assert app.last_error is None and renderer.figures_built == built
        (_, fig) = renderer._figures["bar"]
        ax = fig.axes[0]
        stats = app.selected_statistics()
        labels = [t.get_text() for t in ax.get_yticklabels()]
        widths = {label: p.get_width() for label, p in zip(labels, ax.patches, strict=True)}
        for name, width in widths.items():
            assert width == pytest.approx(stats[name]["avg_duration_ms"])
        assert widths["slow"] == pytest.approx(np.mean([30, 40, 80, 80, 80]))
        # only the bars were repainted over the saved background: the same pixels as a
        # full draw of the updated figure
        assert png(app) == renderer._png(fig, renderer._animate(ax))
        assert ax.get_xlim()[1] >= max(
            stats[n]["avg_duration_ms"] + stats[n]["std_duration_ms"] for n in labels
        )
        # a Refresh that re-sorts the bars relabels the same figure
        for _ in range(1000):
            with filled.profile_block("fast"):
                filled._clock.advance_ns(90 * MS)  # type: ignore[attr-defined]
        app.refresh()
        assert app.last_error is None and renderer.figures_built == built
        assert renderer._figures["bar"][1] is fig
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels == ["fast", "slow", "medium", "flaky"]
        stats = app.selected_statistics()
        for label, patch in zip(labels, ax.patches, strict=True):
            assert patch.get_width() == pytest.approx(stats[label]["avg_duration_ms"])
        # the subtitle speaks the app's language, not the plotting function's
        many = PerformanceProfiler(track_memory=False)
        for i in range(45):
            with many.profile_block(f"op{i}"):
                pass
        big = comparison_widget(profiler=many, renderer=renderer)
        try:
            title = renderer._figures["bar"][1].axes[0].get_title()
            assert "25 of 45 operations shown" in title and "top=None" not in title
            assert "select fewer operations" in title
        finally:
            big.close()
    finally:
        app.close()
