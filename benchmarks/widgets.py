"""The comparison widget's build, Refresh and Live redraw, beside their floors, in one run.

Each figure is the fastest of several runs (the least disturbed on a shared
machine). The floors:

* read floor: taking a snapshot of the profiler and every operation's summary,
  which any view of all operations must do; the widget's build and Refresh
  (chart excluded: a renderer that returns fixed bytes) are shown as a ratio
  to it, and against the absolute targets (under 100 ms at 100 operations,
  under 1 s at 10,000);
* stock SelectMultiple: ipywidgets' own list with every option selected,
  which scans the options once per selected value (quadratic), beside the
  app's ``OperationSelect``;
* fresh figure: what a redraw cost when it built a new matplotlib figure
  (``plot_comparison`` + ``savefig``), beside the app's Live redraw at 100
  operations with the chart included, which updates the figure it has
  (target: under 100 ms).

Run: ``make bench`` (or ``python benchmarks/widgets.py --quick``).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import io
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from wdbx_notebook import PerformanceProfiler, plot_comparison
from wdbx_notebook.jupyter.figures import Chart, ChartRequest
from wdbx_notebook.jupyter.widgets import OperationSelect, comparison_widget


class FixedChart:
    """A renderer that draws nothing: what the widget costs, chart excluded."""

    def render(self, request: ChartRequest) -> Chart:
        return Chart(b"\x89PNG\r\n\x1a\n", 720)


def profiler_with(operations: int, calls: int = 3) -> PerformanceProfiler:
    profiler = PerformanceProfiler(track_memory=False)
    for i in range(operations):
        name = f"module.operation_{i:05d}"
        for _ in range(calls):
            with profiler.profile_block(name):
                pass
    profiler.snapshot()  # the first flush is not the widget's cost
    return profiler


def best(fn: Callable[[], Any], repeats: int, setup: Callable[[], Any] | None = None) -> float:
    """The fastest of ``repeats`` runs, in seconds (the collector off while timing, as
    timeit does: a collection of someone else's garbage is not the widget's cost)."""
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()  # untimed: new calls arriving
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return min(times)


def read_floor(profiler: PerformanceProfiler) -> None:
    snapshot = profiler.snapshot()
    for name in snapshot.get_all_operations():
        snapshot.summary(name)


def touch(profiler: PerformanceProfiler, names: list[str]) -> None:
    """New calls arrive: the next Refresh or Live tick has something to show."""
    for name in names:
        with profiler.profile_block(name):
            pass


def row(what: str, seconds: float, floor: float | None, target_s: float | None) -> bool:
    ratio = f"{seconds / floor:.2f}x" if floor else ""
    target = f"< {target_s * 1000:,.0f} ms" if target_s is not None else ""
    met = target_s is None or seconds < target_s
    mark = "" if target_s is None else ("met" if met else "MISSED")
    print(f"| {what} | {seconds * 1000:,.1f} ms | {ratio} | {target} | {mark} |")
    return met


def build_and_refresh(operations: int, target: float, runs: int) -> bool:
    """Build and Refresh (both orders) at ``operations``, chart excluded, beside the read floor."""
    profiler = profiler_with(operations)
    names = profiler.get_all_operations()
    floor = best(lambda: read_floor(profiler), runs)
    row(f"read floor: snapshot + summaries, {operations:,} operations", floor, None, None)
    apps: list[Any] = []

    def build() -> None:
        apps.append(comparison_widget(profiler=profiler, renderer=FixedChart()))

    ok = row(
        f"widget build, {operations:,} operations, chart excluded", best(build, runs), floor, target
    )
    app = apps.pop()
    for other in apps:
        other.close()

    def refresh_same() -> None:
        touch(profiler, names[:1])  # a new call of the slowest: the order stays
        app.refresh()

    same = best(refresh_same, runs)
    what = f"{operations:,} operations, chart excluded"
    ok &= row(f"Refresh, order unchanged, {what}", same, floor, target)
    flip = [names[0], names[-1]]

    def refresh_changed() -> None:
        # the fastest and the slowest swap places by mean
        with profiler.profile_block(flip[1]):
            time.sleep(0.002)
        flip.reverse()
        app.refresh()

    ok &= row(f"Refresh, order changed, {what}", best(refresh_changed, runs), floor, target)
    assert app.last_error is None, app.last_error
    app.close()
    return ok


def select_all(operations: int, runs: int) -> None:
    """ipywidgets' SelectMultiple beside the app's OperationSelect, every option selected."""
    names = [f"module.operation_{i:05d}" for i in range(operations)]
    values = tuple(names)
    options = [(n, n) for n in names]
    stock = best(
        lambda: widgets.SelectMultiple(options=options, value=values).close(),
        1 if operations > 1000 else runs,
    )
    ours = best(lambda: OperationSelect(options=options, value=values).close(), runs)
    row(f"stock SelectMultiple, all {operations:,} selected", stock, None, None)
    row(f"OperationSelect, all {operations:,} selected", ours, stock, None)
    print(f"|  | | {stock / ours:.1f}x faster than stock | | |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    big_repeats = 2 if args.quick else 3

    print(
        f"comparison widget, {datetime.date.today()}, Python {platform.python_version()}, "
        f"ipywidgets {widgets.__version__}, {platform.machine()}"
    )
    print()
    print("| what | best time | vs floor | target | |")
    print("|---|---:|---:|---|---|")
    ok = True
    for operations, target, runs in ((100, 0.1, repeats), (10_000, 1.0, big_repeats)):
        ok &= build_and_refresh(operations, target, runs)
        select_all(operations, runs)

    # Live redraw at 100 operations, chart included
    profiler = profiler_with(100, calls=20)
    names = profiler.get_all_operations()
    app = comparison_widget(profiler=profiler)

    def fresh_figure() -> None:
        fig = plot_comparison(profiler=profiler)
        fig.savefig(io.BytesIO(), format="png", dpi=90)

    fresh = best(fresh_figure, repeats)
    row("fresh figure per redraw (plot_comparison + savefig), 100 operations", fresh, None, None)
    app._live_tick()

    def live(a: Any = app) -> None:
        touch(profiler, names[:5])
        a._live_tick()

    redraw = best(live, repeats)
    ok &= row("Live redraw, 100 operations, chart included", redraw, fresh, 0.1)
    assert app.last_error is None, app.last_error
    top = [names[0]]

    def slowest_slower() -> None:
        for _ in range(5):  # more calls of the slowest only: every bar keeps its place
            with profiler.profile_block(top[0]):
                time.sleep(0.0002)

    slowest_slower()
    app.refresh()
    top[0] = app.chart_request().order[0]  # type: ignore[index]
    ok &= row(
        "Refresh, 100 operations, chart included, same order",
        best(app.refresh, repeats, slowest_slower),
        fresh,
        0.1,
    )
    climbers = iter(enumerate(reversed(names), 1))
    climber = [""]

    def climb() -> None:
        # another operation becomes the slowest: the bars are re-sorted and relabelled
        rank, climber[0] = next(climbers)
        for _ in range(30):
            with profiler.profile_block(climber[0]):
                time.sleep(0.002 * rank)

    def refresh_resorted() -> None:
        app.refresh()
        assert app.chart_request().order[0] == climber[0]  # type: ignore[index]

    ok &= row(
        "Refresh, 100 operations, chart included, bars re-sorted",
        best(refresh_resorted, repeats, climb),
        fresh,
        0.1,
    )
    built_figures = app.renderer.figures_built  # type: ignore[attr-defined]
    app.close()
    print()
    print(f"figures built by the app over {3 * repeats + 1} redraws: {built_figures}")
    print("all targets met" if ok else "some targets missed (a shared machine? run again)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
