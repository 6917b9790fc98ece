"""The static plots: figures, labels with units, and data that matches the statistics."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from wdbx_notebook import (
    PerformanceProfiler,
    UnknownOperationError,
    plot_comparison,
    plot_distribution,
    plot_timeline,
)
from wdbx_notebook.plots import MAX_BINS, METRICS, metric_value, shorten

MS = 1_000_000

# durations in ns per operation; "flaky" fails its 2nd and 4th calls
DURATIONS = {
    "parse": [3 * MS, 5 * MS, 4 * MS, 8 * MS],
    "load": [20 * MS, 22 * MS, 30 * MS],
    "flaky": [1 * MS, 2 * MS, 3 * MS, 4 * MS, 5 * MS],
    "tiny": [10_000] * 50,
}


@pytest.fixture
def filled(profiler: PerformanceProfiler, timed_op: Any) -> PerformanceProfiler:
    for name, durations in DURATIONS.items():
        timed_op(name, durations, fail=frozenset({1, 3}) if name == "flaky" else frozenset())
    return profiler


def successes_ms(name: str) -> list[float]:
    durations = DURATIONS[name]
    if name == "flaky":
        durations = [d for i, d in enumerate(durations) if i not in (1, 3)]
    return [d / MS for d in durations]


def renders(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def tick_labels(ax: Any) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


# cpu_share needs CPU time, which this fake-clock data lacks: tests/test_explain.py draws it
@pytest.mark.parametrize("metric", [m for m in METRICS if m != "cpu_share"])
def test_bar_lengths_are_the_statistics_worst_first(
    filled: PerformanceProfiler, metric: str
) -> None:
    fig = plot_comparison(profiler=filled, metric=metric)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    m = METRICS[metric]
    assert ax.get_xlabel() == m.label and "(" in m.label  # the unit is in the label
    assert ax.get_ylabel() == "Operation"
    # ties (no memory figures here) keep the default order: slowest mean first
    by_mean = sorted(DURATIONS, key=lambda n: -filled.get_statistics(n)["avg_duration_ms"])
    stats = {name: filled.get_statistics(name) for name in by_mean}
    expected = sorted(stats, key=lambda n: metric_value(stats[n], m), reverse=m.higher_is_worse)
    assert tick_labels(ax) == expected
    widths = [patch.get_width() for patch in ax.patches]
    assert widths == pytest.approx([metric_value(stats[n], m) for n in expected])
    assert renders(fig).startswith(b"\x89PNG")


def test_bars_match_numpy(filled: PerformanceProfiler) -> None:
    ax = plot_comparison(profiler=filled, metric="mean").axes[0]
    by_name = dict(zip(tick_labels(ax), (p.get_width() for p in ax.patches), strict=True))
    for name in DURATIONS:
        assert by_name[name] == pytest.approx(np.mean(successes_ms(name)))
    ax = plot_comparison(profiler=filled, metric="p95").axes[0]
    by_name = dict(zip(tick_labels(ax), (p.get_width() for p in ax.patches), strict=True))
    assert by_name["parse"] == pytest.approx(np.percentile(successes_ms("parse"), 95))
    ax = plot_comparison(profiler=filled, metric="success_rate").axes[0]
    by_name = dict(zip(tick_labels(ax), (p.get_width() for p in ax.patches), strict=True))
    assert by_name["flaky"] == pytest.approx(60.0) and by_name["load"] == 100.0
    assert tick_labels(ax)[0] == "flaky"  # the lowest success rate is the worst


def test_mean_has_one_std_error_bars_clipped_at_zero(filled: PerformanceProfiler) -> None:
    ax = plot_comparison(profiler=filled, metric="mean").axes[0]
    (container,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    segments = container.lines[2][0].get_segments()
    for name, segment in zip(tick_labels(ax), segments, strict=True):
        values = successes_ms(name)
        mean, std = np.mean(values), np.std(values, ddof=1)
        low, high = sorted(point[0] for point in segment)
        assert high == pytest.approx(mean + std)
        assert low == pytest.approx(max(mean - std, 0.0))
    # other metrics have no spread to draw
    ax = plot_comparison(profiler=filled, metric="p99").axes[0]
    assert not [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def test_explicit_operations_and_unknown_names(filled: PerformanceProfiler) -> None:
    ax = plot_comparison(["tiny", "load"], filled).axes[0]
    assert tick_labels(ax) == ["load", "tiny"]
    assert tick_labels(plot_comparison("parse", filled).axes[0]) == ["parse"]
    with pytest.raises(UnknownOperationError, match="parse"):
        plot_comparison(["prase"], filled)


def test_bad_arguments_say_what_would_be_right(filled: PerformanceProfiler) -> None:
    with pytest.raises(ValueError, match=r"'mean'.*'p95'"):
        plot_comparison(profiler=filled, metric="average")
    with pytest.raises(ValueError, match="top must be a positive int"):
        plot_comparison(profiler=filled, top=0)
    with pytest.raises(TypeError, match="operations must be"):
        plot_comparison(5, filled)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a PerformanceProfiler, a Snapshot"):
        plot_comparison(profiler=object())  # type: ignore[arg-type]
    for bins in (0, MAX_BINS + 1, 10**7, 2.5, True):
        with pytest.raises(ValueError, match=f"bins must be an int from 1 to {MAX_BINS:,}"):
            plot_distribution(profiler=filled, kind="histogram", bins=bins)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'box', 'violin', 'histogram'"):
        plot_distribution(profiler=filled, kind="pie")
    with pytest.raises(ValueError, match="window"):
        plot_timeline(profiler=filled, window=0)
    with pytest.raises(ValueError, match="rss_bytes"):
        plot_timeline(profiler=filled, system=pd.DataFrame({"cpu": [1.0]}))


def test_many_operations_stay_readable(profiler: PerformanceProfiler, timed_op: Any) -> None:
    long = "pipeline.stage_{:03d}.transform_every_column_of_the_frame[size=100000]"
    for i in range(200):
        timed_op(long.format(i), [(i + 1) * 1000])
    fig = plot_comparison(profiler=profiler)
    ax = fig.axes[0]
    labels = tick_labels(ax)
    assert len(ax.patches) == 40 and len(labels) == 40
    assert "40 of 200 operations shown" in ax.get_title()
    assert all(len(label) <= 36 and "…" in label for label in labels)
    assert labels[0] == shorten(long.format(199))
    assert fig.get_figheight() > 10  # the figure grows with the bars instead of squeezing them
    everything = plot_comparison(profiler=profiler, top=None).axes[0]
    assert len(everything.patches) == 200 and "shown" not in everything.get_title()
    renders(fig)


def test_shorten_keeps_both_ends_and_escapes() -> None:
    assert shorten("short") == "short"
    short = shorten("a" * 20 + "MIDDLE" + "b" * 20, 21)
    assert len(short) == 21 and short.startswith("a" * 10) and short.endswith("b" * 10)
    assert shorten("cost $5 and $6") == r"cost \$5 and \$6"  # no mathtext
    assert shorten("two\nlines") == "two\\nlines"


def test_hostile_names_render(profiler: PerformanceProfiler, timed_op: Any) -> None:
    hostile = ["a|b", "`tick`", "<script>alert(1)</script>", "line\nbreak", "$x^2$", "$unbalanced"]
    for name in hostile:
        timed_op(name, [MS, 2 * MS])
    for fig in (
        plot_comparison(profiler=profiler),
        plot_distribution(profiler=profiler, kind="violin"),
        plot_distribution(profiler=profiler, kind="histogram"),
        plot_timeline(profiler=profiler),
    ):
        assert renders(fig).startswith(b"\x89PNG")
    labels = tick_labels(plot_comparison(profiler=profiler).axes[0])
    assert r"\$x^2\$" in labels and "line\\nbreak" in labels
    assert not any("\n" in label for label in labels)


def test_empty_sources_draw_a_message(profiler: PerformanceProfiler) -> None:
    for fig in (
        plot_comparison(profiler=profiler),
        plot_distribution(profiler=profiler),
        plot_timeline(profiler=profiler),
    ):
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert texts and ("No profiled operations" in texts[0] or "No successful calls" in texts[0])
        renders(fig)


def box_medians(ax: Any, count: int) -> list[float]:
    """The x of each box's median line (horizontal boxes 0.6 wide at y = 1..count)."""
    medians = []
    for position in range(1, count + 1):
        for line in ax.lines:
            x, y = line.get_xdata(), line.get_ydata()
            if len(x) == 2 and list(y) == pytest.approx([position - 0.3, position + 0.3]):
                medians.append(float(x[0]))
    return medians


def test_box_plot_shows_the_successful_durations(filled: PerformanceProfiler) -> None:
    fig = plot_distribution(profiler=filled, kind="box")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Duration per call (ms)" and ax.get_xscale() == "linear"
    names = tick_labels(ax)
    # slowest median first; failed calls have no duration
    assert names == sorted(DURATIONS, key=lambda n: -np.median(successes_ms(n)))
    assert box_medians(ax, len(names)) == pytest.approx([np.median(successes_ms(n)) for n in names])
    log = plot_distribution(profiler=filled, kind="box", log_scale=True).axes[0]
    assert log.get_xscale() == "log" and "log scale" in log.get_xlabel()


def test_violin_plot(filled: PerformanceProfiler, timed_op: Any) -> None:
    timed_op("constant", [2 * MS] * 3)  # a single distinct value has no density
    ax = plot_distribution(profiler=filled, kind="violin", log_scale=True).axes[0]
    bodies = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bodies) == len(DURATIONS) - 1  # "tiny" and "constant" are single values
    assert len(tick_labels(ax)) == len(DURATIONS) + 1
    ticks = [line for line in ax.lines if line.get_marker() == "|"]
    assert sorted(float(t.get_xdata()[0]) for t in ticks) == pytest.approx([0.01, 2.0])
    assert ax.get_xscale() == "log"


def test_histogram_counts_every_successful_call(filled: PerformanceProfiler) -> None:
    ax = plot_distribution(profiler=filled, kind="histogram", bins=10).axes[0]
    assert ax.get_ylabel() == "Calls" and ax.get_xlabel() == "Duration per call (ms)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(legend) == sorted(DURATIONS)
    for patch, name in zip(ax.patches, legend, strict=True):
        # a step outline: the count is the height of each step, summed over the bins
        xy = patch.get_xy()
        heights = xy[1:-1:2, 1]
        assert heights.sum() == pytest.approx(len(successes_ms(name)))
    log = plot_distribution(profiler=filled, kind="histogram", log_scale=True).axes[0]
    assert log.get_xscale() == "log"


def test_histogram_draws_at_most_eight(profiler: PerformanceProfiler, timed_op: Any) -> None:
    for i in range(12):
        timed_op(f"op{i}", [(i + 1) * MS, (i + 2) * MS])
    ax = plot_distribution(profiler=profiler, kind="histogram").axes[0]
    assert len(ax.patches) == 8 and "8 of 12 operations shown" in ax.get_title()


def test_timeline_plots_each_call_and_its_moving_average(filled: PerformanceProfiler) -> None:
    fig = plot_timeline(["parse", "load"], filled, window=2)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Time since first call (s)"
    assert ax.get_ylabel() == "Duration per call (ms)"
    snap = filled.snapshot()
    starts = {
        name: list(snap.calls(name).start_ns[snap.calls(name).success])
        for name in ("parse", "load")
    }
    t0 = min(min(s) for s in starts.values())
    lines = [line for line in ax.lines]
    dots = ax.collections
    for name, line, dot in zip(["load", "parse"], lines, dots, strict=True):  # slowest first
        values = successes_ms(name)
        expected = [np.mean(values[max(0, i - 1) : i + 1]) for i in range(len(values))]
        assert list(line.get_ydata()) == pytest.approx(expected)
        offsets = dot.get_offsets()
        assert list(offsets[:, 1]) == pytest.approx(values)
        expected_x = [(start - t0) / 1e9 for start in starts[name]]
        assert list(offsets[:, 0]) == pytest.approx(expected_x, abs=1e-5)
    assert ax.get_legend() is not None


def test_timeline_leaves_out_failed_calls(filled: PerformanceProfiler) -> None:
    ax = plot_timeline("flaky", filled).axes[0]
    assert list(ax.collections[0].get_offsets()[:, 1]) == pytest.approx(successes_ms("flaky"))
    assert plot_timeline("flaky", filled, log_scale=True).axes[0].get_yscale() == "log"


def test_timeline_overlays_process_memory(filled: PerformanceProfiler) -> None:
    first = int(filled.snapshot().calls("load").start_ns.min())
    seconds = first / 1e9 + np.array([0.0, 0.01, 0.02])
    rss = np.array([100, 110, 130]) * 2**20
    for index in (
        pd.to_datetime(seconds, unit="s"),  # naive: UTC
        pd.to_datetime(seconds, unit="s", utc=True).tz_convert("Europe/Berlin"),
        pd.Index(seconds),  # epoch seconds
    ):
        system = pd.DataFrame({"rss_bytes": rss}, index=index)
        fig = plot_timeline("load", filled, system=system)
        assert len(fig.axes) == 2
        twin = fig.axes[1]
        assert twin.get_ylabel() == "Process memory, RSS (MiB)"
        (memory,) = twin.lines
        assert list(memory.get_ydata()) == pytest.approx([100, 110, 130])
        # the memory samples sit on the calls' time axis
        assert list(memory.get_xdata()) == pytest.approx([0.0, 0.01, 0.02], abs=1e-4)
        assert "process RSS (MiB)" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_a_saved_session_draws_the_same_data(filled: PerformanceProfiler, tmp_path: Any) -> None:
    """Every plot reads a Snapshot: a loaded session gives the live profiler's figures."""
    from wdbx_notebook import load_session

    saved = load_session(filled.save(tmp_path / "session.json"))
    for plot in (plot_comparison, plot_distribution, plot_timeline):
        live, loaded = plot(profiler=filled).axes[0], plot(profiler=saved).axes[0]
        assert tick_labels(live) == tick_labels(loaded)
        assert [p.get_width() for p in live.patches] == [p.get_width() for p in loaded.patches]
        assert [list(c.get_offsets()[:, 1]) for c in live.collections if c.get_offsets().size] == [
            list(c.get_offsets()[:, 1]) for c in loaded.collections if c.get_offsets().size
        ]
        assert [list(line.get_xdata()) for line in live.lines] == [
            list(line.get_xdata()) for line in loaded.lines
        ]


def test_plots_stay_out_of_pyplot(filled: PerformanceProfiler) -> None:
    from matplotlib._pylab_helpers import Gcf

    before = Gcf.get_num_fig_managers()
    for _ in range(3):
        plot_comparison(profiler=filled)
        plot_distribution(profiler=filled, kind="violin")
        plot_timeline(profiler=filled)
    assert Gcf.get_num_fig_managers() == before  # nothing piles up in pyplot's registry


def test_draws_into_given_axes(filled: PerformanceProfiler) -> None:
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plot_comparison(profiler=filled, ax=right) is fig
    assert len(right.patches) == len(DURATIONS) and not left.patches


def test_shared_profiler_by_default(shared_profiler: PerformanceProfiler) -> None:
    with shared_profiler.profile_block("shared op"):
        pass
    assert tick_labels(plot_comparison().axes[0]) == ["shared op"]
    assert isinstance(plot_timeline().axes[0].lines[0], Line2D)


def test_timeline_with_the_real_system_sampler() -> None:
    """The diagnostics sampler's frame (naive UTC datetimes) lines up with the calls."""
    import time

    from wdbx_notebook import SystemDiagnostics

    profiler = PerformanceProfiler(track_memory=False)
    diagnostics = SystemDiagnostics(profiler)
    for _ in range(3):
        with profiler.profile_block("work"):
            diagnostics._sample_safely()  # a sample taken inside each call
            time.sleep(0.002)
    system = diagnostics.to_dataframe()
    assert len(system) == 3
    fig = plot_timeline(profiler=profiler, system=system)
    _main, twin = fig.axes
    calls = profiler.snapshot().calls("work")
    starts, ends = list(calls.start_ns), list(calls.end_ns)
    xs = twin.lines[0].get_xdata()
    for x, start, end in zip(xs, starts, ends, strict=True):
        # each sample falls inside its call (seconds from the first call's start)
        assert (start - starts[0]) / 1e9 - 1e-3 <= x <= (end - starts[0]) / 1e9 + 1e-3
    assert list(twin.lines[0].get_ydata()) == pytest.approx(list(system["rss_bytes"] / 2**20))


def test_legends_keep_names_that_start_with_an_underscore(
    profiler: PerformanceProfiler, timed_op: Any
) -> None:
    # matplotlib drops legend labels starting with "_": every operation must be listed
    timed_op("_private", [MS, 2 * MS, 3 * MS])
    timed_op("public", [4 * MS, 5 * MS])
    timed_op("_single", [6 * MS])
    for fig in (
        plot_distribution(profiler=profiler, kind="histogram"),
        plot_timeline(profiler=profiler),
    ):
        legend = [t.get_text().strip("\u2009") for t in fig.axes[0].get_legend().get_texts()]
        assert {"_private", "public", "_single"} <= {label.split(" (")[0] for label in legend}
        assert len(legend) == 3


def test_timeline_labels_say_what_the_line_averages(
    profiler: PerformanceProfiler, timed_op: Any
) -> None:
    timed_op("once", [MS])
    timed_op("few", [MS, 2 * MS, 3 * MS])
    timed_op("many", [MS] * 40)
    ax = plot_timeline(profiler=profiler).axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "once (1 call)" in legend  # not "(avg of 1)"
    assert "few" in legend  # a window of one call is the calls themselves
    assert "many (avg of 4)" in legend
    assert not any("avg of 1)" in label for label in legend)
    ax = plot_timeline(profiler=profiler, window=2).axes[0]
    assert "few (avg of 2)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_bars_on_a_log_scale(profiler: PerformanceProfiler, timed_op: Any) -> None:
    # durations spanning 1000x: on a linear axis the fast bars are invisible
    timed_op("slow", [1000 * MS, 1200 * MS])
    timed_op("fast", [MS, MS])
    timed_op("mid", [30 * MS, 50 * MS])
    ax = plot_comparison(profiler=profiler, log_scale=True).axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "Mean duration (ms), log scale"
    assert tick_labels(ax) == ["slow", "mid", "fast"]
    assert [p.get_width() for p in ax.patches] == pytest.approx([1100.0, 40.0, 1.0])
    low, high = ax.get_xlim()
    assert 0 < low < 1.0 and high > 1100.0  # every bar shows its end
    # whiskers stay on the axis: the lower one stops short of zero
    (container,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    for segment in container.lines[2][0].get_segments():
        assert min(point[0] for point in segment) > 0
    assert ax.get_xscale() == "log" and renders(ax.figure).startswith(b"\x89PNG")
    linear = plot_comparison(profiler=profiler).axes[0]
    assert linear.get_xscale() == "linear" and linear.get_xlim()[0] == 0


def test_left_out_operations_are_named_in_the_title(
    profiler: PerformanceProfiler, timed_op: Any
) -> None:
    for i in range(5):
        timed_op(f"op{i}", [(i + 1) * MS])
    title = plot_comparison(profiler=profiler, top=2).axes[0].get_title()
    assert title.endswith("2 of 5 operations shown (the worst); pass top=None for all")


def test_plot_trend_lives_with_the_plots_and_reads_any_snapshot(
    filled: PerformanceProfiler, tmp_path: Any
) -> None:
    import wdbx_notebook
    from wdbx_notebook import load_session, plots, trends

    assert wdbx_notebook.plot_trend is plots.plot_trend
    assert not hasattr(trends, "plot_trend")  # trends computes, plots draw
    saved = load_session(filled.save(tmp_path / "s.json"))
    live = plots.plot_trend("tiny", window=5, profiler=filled).axes[0]
    loaded = plots.plot_trend("tiny", window=5, profiler=saved).axes[0]
    assert len(live.lines) == len(loaded.lines) == 2
    for a, b in zip(live.lines, loaded.lines, strict=True):
        np.testing.assert_array_equal(a.get_ydata(), b.get_ydata())  # NaN where it starts
    assert list(live.lines[0].get_ydata())[-1] == pytest.approx(0.01)  # 10 us calls, in ms
    assert live.get_title() == "Trend of tiny"
