"""Trends: rolling statistics against pandas, the step-up detector on synthetic
sessions (a step, no step, a spike that recovers), the report recommendation and
the trend plot."""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from wdbx_notebook import PerformanceProfiler, load_session, plot_trend
from wdbx_notebook._clock import FakeClock
from wdbx_notebook.frames import history_dataframe
from wdbx_notebook.report import PerformanceReport
from wdbx_notebook.trends import (
    ROLLING_COLUMNS,
    detect_step_up,
    rolling_statistics,
    split_statistics,
    step_test,
)

matplotlib.use("Agg")

HOSTILE = "q|`<script>alert(1)</script>\nx"


def _run(
    durations_ns: list[int], name: str = "op", history_limit: int = 10_000
) -> PerformanceProfiler:
    clock = FakeClock(5_000_000_000)
    profiler = PerformanceProfiler(track_memory=False, clock=clock, history_limit=history_limit)
    for ns in durations_ns:
        with profiler.profile_block(name):
            clock.advance_ns(ns)
        clock.advance_ns(100_000)
    return profiler


def _noise(seed: int, n: int, median_ms: float = 1.0, sigma: float = 0.2) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(v) for v in rng.lognormal(math.log(median_ms * 1e6), sigma, n)]


# -- rolling statistics --------------------------------------------------------------------
@pytest.mark.parametrize("window", [1, 5, 50])
def test_rolling_statistics_match_pandas(window: int) -> None:
    values = np.random.default_rng(window).lognormal(0, 0.5, 300)
    mean, p95 = rolling_statistics(values, window)
    series = pd.Series(values).rolling(window)
    np.testing.assert_allclose(mean, series.mean().to_numpy(), rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(p95, series.quantile(0.95).to_numpy(), rtol=1e-12, equal_nan=True)
    assert np.isnan(mean[: window - 1]).all() and not np.isnan(mean[window - 1 :]).any()


def test_history_dataframe_rolling_option() -> None:
    clock = FakeClock()
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    for i in range(30):
        for name, base in (("a", 1.0), ("b", 10.0)):
            try:
                with profiler.profile_block(name):
                    clock.advance_ms(base + i)
                    if name == "a" and i == 10:
                        raise ValueError("one failure")
            except ValueError:
                pass
    frame = history_dataframe(profiler, rolling=4)
    assert list(frame.columns[-2:]) == list(ROLLING_COLUMNS)
    assert frame.equals(profiler.history_dataframe(rolling=4))
    failed = frame[~frame["success"]]
    assert len(failed) == 1 and failed[list(ROLLING_COLUMNS)].isna().all(axis=None)
    for name in ("a", "b"):
        ok = frame[(frame["operation"] == name) & frame["success"]]
        expected = ok["duration_ms"].rolling(4)
        np.testing.assert_allclose(ok["rolling_mean_ms"], expected.mean(), equal_nan=True)
        np.testing.assert_allclose(ok["rolling_p95_ms"], expected.quantile(0.95), equal_nan=True)
    assert "rolling_mean_ms" not in history_dataframe(profiler).columns
    with pytest.raises(ValueError, match="window \\(rolling=\\) must be a positive int"):
        history_dataframe(profiler, rolling=0)
    with pytest.raises(TypeError, match="accepted options: rolling"):
        history_dataframe(profiler, rollin=3)


# -- the split statistic against scipy --------------------------------------------------------
def test_split_statistic_is_the_mann_whitney_z() -> None:
    rng = np.random.default_rng(3)
    values = np.round(rng.normal(10, 2, 90))  # ties, as a coarse clock gives them
    splits, z = split_statistics(values, segment=10)
    for k, zk in zip(splits.tolist(), z.tolist(), strict=True):
        result = scipy_stats.mannwhitneyu(
            values[k:], values[:k], alternative="greater", method="asymptotic", use_continuity=False
        )
        assert zk == pytest.approx(scipy_stats.norm.isf(result.pvalue), rel=1e-9, abs=1e-9)


# -- the detector ----------------------------------------------------------------------------
def test_a_sustained_step_up_is_found_where_it_began() -> None:
    durations = _noise(1, 600) + [int(v * 1.3) for v in _noise(2, 400)]
    profiler = _run(durations)
    step = detect_step_up(profiler, "op")
    assert step is not None
    assert abs(step.index - 600) <= 5
    assert step.call_number == step.index + 1
    assert step.ratio == pytest.approx(1.3, rel=0.06)
    assert step.p_value < 1e-6 and step.calls_after == 1_000 - step.index
    calls = profiler.snapshot().calls("op")
    assert step.timestamp == calls.start_ns[step.index] / 1e9
    assert step.before_median_ms == pytest.approx(
        np.median(np.array(durations[: step.index]) / 1e6)
    )
    assert "stepped up 1.3" in step.describe() and f"call #{step.call_number:,}" in step.describe()


def test_the_call_number_counts_calls_no_longer_kept() -> None:
    durations = _noise(3, 700) + [int(v * 1.5) for v in _noise(4, 300)]
    step = detect_step_up(_run(durations, history_limit=500), "op")
    assert step is not None
    # 500 kept of 1,000: the kept history starts at call 501, the step is near call 701.
    assert step.call_number == 500 + step.index + 1 and abs(step.call_number - 701) <= 5


@pytest.mark.parametrize("seed", range(15))
def test_no_step_in_stationary_noise(seed: int) -> None:
    assert step_test(_noise(100 + seed, 1_000, sigma=0.4)) is None


def test_a_spike_that_recovers_is_not_a_step() -> None:
    durations = _noise(5, 400) + [int(v * 2) for v in _noise(6, 200)] + _noise(7, 400)
    assert step_test(durations) is None


def test_a_step_down_or_a_small_step_is_not_reported() -> None:
    assert step_test(_noise(8, 500) + [int(v * 0.7) for v in _noise(9, 500)]) is None
    small = _noise(10, 500, sigma=0.02) + [int(v * 1.05) for v in _noise(11, 500, sigma=0.02)]
    assert step_test(small) is None  # real, but under the 10% that counts
    assert step_test(small, min_increase=0.03) is not None


def test_too_few_calls_or_constant_durations() -> None:
    assert step_test([1.0] * 20 + [2.0] * 19) is None
    assert step_test([5.0] * 500) is None


def test_the_permutation_test_decides_borderline_steps() -> None:
    # A modest step in a short, noisy history: past the single-split level, not
    # past the Bonferroni bound, so the shuffles decide.
    durations = _noise(37, 60, sigma=0.3) + [int(v * 1.12) for v in _noise(137, 60, sigma=0.3)]
    values = np.array(durations, dtype=float)
    splits, z = split_statistics(values, segment=20)
    single = 0.5 * math.erfc(float(z.max()) / math.sqrt(2))
    alpha = 0.01
    assert single < alpha <= single * len(splits)
    found = step_test(durations, alpha=alpha)
    assert found is not None
    assert single <= found["p_value"] < alpha
    assert step_test(durations, alpha=alpha) == found  # fixed seed: the same answer
    # An independent brute-force permutation test agrees within sampling error.
    rng = np.random.default_rng(99)
    observed = float(z.max())
    shuffles = 3_000
    exceed = sum(
        float(split_statistics(rng.permutation(values), segment=20)[1].max()) >= observed
        for _ in range(shuffles)
    )
    brute = (exceed + 1) / (shuffles + 1)
    assert abs(brute - found["p_value"]) < 0.006


def test_snapshots_keep_enough_history_to_detect(tmp_path: Path) -> None:
    durations = _noise(14, 500) + [int(v * 1.4) for v in _noise(15, 500)]
    session = load_session(_run(durations).save(tmp_path / "s.json"))
    step = detect_step_up(session, "op")
    assert step is not None and abs(step.index - 500) <= 5


# -- the report ------------------------------------------------------------------------------
def test_report_recommends_looking_at_the_step(tmp_path: Path) -> None:
    durations = _noise(16, 500) + [int(v * 1.5) for v in _noise(17, 500)]
    profiler = _run(durations, name=HOSTILE)
    report = PerformanceReport(profiler)
    steps = [r for r in report.data.recommendations if r.kind == "step"]
    assert len(steps) == 1 and steps[0].operation == HOSTILE
    assert re.search(r"stepped up 1\.[45]\dx", steps[0].evidence)
    assert "from call #" in steps[0].evidence
    assert "Find what slowed down" in report.to_text()
    markdown = report.to_markdown()
    assert "Find what slowed down** q\\|\\`&lt;script&gt;" in markdown
    assert "<script>" not in report.to_html()
    # A saved session reports it too.
    session = load_session(profiler.save(tmp_path / "r.json"))
    assert any(r.kind == "step" for r in PerformanceReport(session).data.recommendations)
    # A steady operation gets no such advice.
    steady = _run(_noise(18, 1_000))
    assert not [r for r in PerformanceReport(steady).data.recommendations if r.kind == "step"]


# -- the plot -------------------------------------------------------------------------------------
def test_plot_trend_draws_calls_rolling_lines_and_the_step() -> None:
    durations = _noise(19, 400) + [int(v * 1.5) for v in _noise(20, 400)]
    profiler = _run(durations, name=HOSTILE)
    fig = plot_trend(HOSTILE, window=40, profiler=profiler)
    from matplotlib.figure import Figure

    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["rolling mean (40 calls)", "rolling p95 (40 calls)"]
    step = detect_step_up(profiler, HOSTILE)
    assert (
        step is not None and labels[2] == f"step up {step.ratio:.2f}x at call #{step.call_number:,}"
    )
    mean_line = ax.get_lines()[0]
    expected_mean, _ = rolling_statistics(np.array(durations) / 1e6, 40)
    np.testing.assert_allclose(
        np.asarray(mean_line.get_ydata(), dtype=float), expected_mean, equal_nan=True
    )
    assert "\n" not in ax.get_title() and "\\n" in ax.get_title()
    assert len(np.asarray(ax.collections[0].get_offsets())) == 800


def test_plot_trend_default_source_window_and_errors(shared_profiler: PerformanceProfiler) -> None:
    for _ in range(100):
        with shared_profiler.profile_block("shared_op"):
            pass
    fig = plot_trend("shared_op")
    assert fig.axes[0].get_lines()[0].get_label() == "rolling mean (5 calls)"
    with pytest.raises(KeyError, match="did you mean 'shared_op'"):
        plot_trend("shared_opp")
    with pytest.raises(ValueError, match="positive int"):
        plot_trend("shared_op", window=-1)


def test_steps_are_found_in_a_profiler_a_snapshot_and_a_saved_session(tmp_path: Path) -> None:
    durations = _noise(41, 150) + [int(v * 1.6) for v in _noise(42, 150)]
    profiler = _run(durations)
    session = load_session(profiler.save(tmp_path / "step.json"))
    found = [detect_step_up(s, "op") for s in (profiler, profiler.snapshot(), session)]
    assert all(step is not None for step in found)
    assert len({(s.index, s.call_number, s.ratio) for s in found if s is not None}) == 1
    with pytest.raises(TypeError, match="expected a PerformanceProfiler, a Snapshot"):
        detect_step_up({"op": durations}, "op")
