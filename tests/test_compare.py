"""Comparisons: the statistics against scipy/numpy, and the verdicts on synthetic runs
with a known slowdown, no slowdown and too few calls."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats as scipy_stats

from wdbx_notebook import PerformanceProfiler, Snapshot, compare, load_session
from wdbx_notebook._clock import FakeClock
from wdbx_notebook.compare import (
    COLUMNS,
    INCONCLUSIVE,
    MAX_RESAMPLES,
    MIN_CALLS,
    bootstrap_medians,
    compare_operations,
    compare_samples,
    comparison_markdown,
    mann_whitney_u,
)
from wdbx_notebook.snapshot import CallColumns
from wdbx_notebook.stats import OperationStats

HOSTILE = "a|b`<script>alert(1)</script>\nx"


def _lognormal_ns(seed: int, n: int, median_ms: float, sigma: float = 0.1) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(v) for v in rng.lognormal(math.log(median_ms * 1e6), sigma, n)]


def _run(
    durations: dict[str, list[int]], failures: dict[str, int] | None = None
) -> PerformanceProfiler:
    """A profiler fed through the real recording path on a fake clock."""
    clock = FakeClock(1_000_000_000)
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    for name, values in durations.items():
        for ns in values:
            with profiler.profile_block(name):
                clock.advance_ns(ns)
            clock.advance_ns(10_000)
    for name, count in (failures or {}).items():
        for _ in range(count):
            with pytest.raises(RuntimeError), profiler.profile_block(name):
                raise RuntimeError("down")
    return profiler


# -- Mann-Whitney U against scipy -------------------------------------------------------
@pytest.mark.parametrize("seed", range(12))
def test_mann_whitney_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n1, n2 = int(rng.integers(6, 300)), int(rng.integers(6, 300))
    x: Any
    y: Any
    if seed % 3 == 0:  # heavy ties: small integers
        x, y = rng.integers(0, 5, n1), rng.integers(0, 6, n2)
    elif seed % 3 == 1:  # continuous, shifted
        x, y = rng.lognormal(0, 0.3, n1), rng.lognormal(0.05, 0.3, n2)
    else:  # quantised timings, as a coarse clock gives them
        x, y = np.round(rng.normal(100, 5, n1)), np.round(rng.normal(101, 5, n2))
    u, p = mann_whitney_u(x, y)
    expected = scipy_stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
    assert u == pytest.approx(float(expected.statistic), rel=1e-12, abs=1e-9)
    assert p == pytest.approx(float(expected.pvalue), rel=1e-9, abs=1e-15)


def test_mann_whitney_all_equal_and_bad_input() -> None:
    assert mann_whitney_u([3, 3, 3], [3, 3]) == (3.0, 1.0)
    with pytest.raises(ValueError, match="both sides"):
        mann_whitney_u([], [1, 2])


# -- the bootstrap sampler against a brute-force bootstrap ---------------------------------
@pytest.mark.parametrize("n", [7, 100, 101])
def test_bootstrap_medians_match_brute_force_resampling(n: int) -> None:
    values = np.sort(np.random.default_rng(n).lognormal(0, 0.5, n))
    fast = bootstrap_medians(values, 40_000, np.random.default_rng(1))
    rng = np.random.default_rng(2)
    brute = np.median(values[rng.integers(0, n, size=(40_000, n))], axis=1)
    # The same discrete distribution: CDFs agree everywhere within sampling noise.
    support = np.unique(np.concatenate([fast, brute]))
    cdf_fast = np.searchsorted(np.sort(fast), support, side="right") / len(fast)
    cdf_brute = np.searchsorted(np.sort(brute), support, side="right") / len(brute)
    assert np.abs(cdf_fast - cdf_brute).max() < 0.015
    # Every bootstrap median is a value (odd n) or a midpoint of two values (even n).
    if n % 2:
        assert np.isin(fast, values).all()


# -- verdicts on synthetic runs ------------------------------------------------------------
def test_known_ten_percent_slowdown_is_slower(tmp_path: Path) -> None:
    baseline = _run({"search": _lognormal_ns(1, 400, 2.0)})
    current = _run({"search": [int(v * 1.10) for v in _lognormal_ns(2, 400, 2.0)]})
    session = load_session(baseline.save(tmp_path / "baseline.json"))
    frame = compare(session, current)
    assert list(frame.columns) == list(COLUMNS) and frame.index.name == "operation"
    row = frame.loc["search"]
    base_ms = np.array(_lognormal_ns(1, 400, 2.0)) / 1e6
    cur_ms = np.array([int(v * 1.10) for v in _lognormal_ns(2, 400, 2.0)]) / 1e6
    assert row["baseline_median_ms"] == np.median(base_ms)
    assert row["current_p95_ms"] == np.percentile(cur_ms, 95)
    assert row["ratio"] == pytest.approx(np.median(cur_ms) / np.median(base_ms), rel=1e-12)
    assert 1.0 < row["ci_low"] < row["ratio"] < row["ci_high"]
    assert row["p_value"] < 0.01
    assert row["verdict"] == "slower" and pd_isna(row["calls_needed"])
    assert row["change"] == f"{row['ratio']:.2f}x slower"
    assert 1.05 < row["ratio"] < 1.16


def pd_isna(value: Any) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_no_slowdown_is_same() -> None:
    baseline = _run({"search": _lognormal_ns(3, 3_000, 2.0, sigma=0.05)})
    current = _run({"search": _lognormal_ns(4, 3_000, 2.0, sigma=0.05)})
    row = compare(baseline.snapshot(), current).loc["search"]
    assert row["verdict"] == "same"
    assert 0.95 <= row["ci_low"] <= 1 <= row["ci_high"] <= 1.05


def test_ten_percent_faster_is_faster() -> None:
    baseline = _run({"op": _lognormal_ns(5, 300, 2.0)})
    current = _run({"op": [int(v / 1.10) for v in _lognormal_ns(6, 300, 2.0)]})
    row = compare(baseline, current).loc["op"]
    assert row["verdict"] == "faster" and row["ci_high"] < 1
    assert row["change"] == f"{1 / row['ratio']:.2f}x faster"


def test_too_few_calls_is_always_inconclusive() -> None:
    # A doubling is obvious to the eye, but 5 calls cannot carry a test.
    baseline = _run({"op": [1_000_000, 1_010_000, 990_000, 1_020_000, 1_000_000]})
    current = _run({"op": [2_000_000, 2_010_000, 1_990_000, 2_020_000, 2_000_000]})
    row = compare(baseline, current).loc["op"]
    assert row["verdict"] == INCONCLUSIVE and row["current_calls"] == 5
    assert row["calls_needed"] >= MIN_CALLS
    assert row["ratio"] == pytest.approx(2.0)


def test_small_noisy_difference_is_inconclusive_with_an_estimate_that_settles_it() -> None:
    base_ns = _lognormal_ns(7, 30, 2.0, sigma=0.3)
    cur_ns = [int(v * 1.08) for v in _lognormal_ns(8, 30, 2.0, sigma=0.3)]
    first = compare_samples(base_ns, cur_ns)
    assert first["verdict"] == INCONCLUSIVE
    needed = first["calls_needed"]
    assert isinstance(needed, int) and needed > 30
    # The estimate takes the observed ratio as the truth: runs of `needed` calls per
    # side with that true ratio and the same spread mostly settle as "slower".
    ratio = first["ratio"]
    verdicts = [
        compare_samples(
            _lognormal_ns(100 + seed, needed, 2.0, sigma=0.3),
            [int(v * ratio) for v in _lognormal_ns(200 + seed, needed, 2.0, sigma=0.3)],
        )["verdict"]
        for seed in range(10)
    ]
    assert verdicts.count("slower") >= 6, verdicts
    # A quarter of those calls mostly does not.
    fewer = [
        compare_samples(
            _lognormal_ns(300 + seed, needed // 4, 2.0, sigma=0.3),
            [int(v * ratio) for v in _lognormal_ns(400 + seed, needed // 4, 2.0, sigma=0.3)],
        )["verdict"]
        for seed in range(10)
    ]
    assert fewer.count("slower") < verdicts.count("slower")


def test_the_bootstrap_is_reproducible_and_options_are_checked() -> None:
    a, b = _lognormal_ns(11, 50, 1.0), _lognormal_ns(12, 50, 1.05)
    assert compare_samples(a, b) == compare_samples(a, b)
    assert compare_samples(a, b, seed=1) != compare_samples(a, b, seed=2)
    with pytest.raises(ValueError, match="resamples must be an int from 2,000 to 1,000,000"):
        compare_samples(a, b, resamples=100)
    with pytest.raises(ValueError, match="threshold must be a fraction"):
        compare_samples(a, b, threshold=5)
    with pytest.raises(TypeError, match="threshold must be a fraction"):
        compare_samples(a, b, threshold="5%")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="confidence"):
        compare_samples(a, b, confidence=95)


def test_threshold_decides_between_same_and_slower() -> None:
    base = [1_000_000 + i % 10 * 1_000 for i in range(500)]
    cur = [int(v * 1.03) for v in base]
    assert compare_samples(base, cur, threshold=0.05)["verdict"] == "same"
    assert compare_samples(base, cur, threshold=0.02)["verdict"] == "slower"


# -- sides, memory, success rate --------------------------------------------------------------
def _snapshot_with_memory(memory_delta: int, failures: int) -> Snapshot:
    stats = OperationStats()
    starts = np.arange(100, dtype=np.int64) * 10_000_000
    ends = starts + 1_000_000 + np.arange(100) % 5 * 1_000
    before = np.full(100, 10_000, dtype=np.int64)
    stats.add_successes(starts, ends, before, before + memory_delta)
    if failures:
        stats.add_failures(starts[:failures], ends[:failures], None, None, ["OSError"] * failures)
    return Snapshot({"load": stats}, {"load": CallColumns.from_lists(starts, ends)})


def test_memory_and_success_rate_changes() -> None:
    frame = compare(_snapshot_with_memory(1_024, 0), _snapshot_with_memory(5_120, 25))
    row = frame.loc["load"]
    assert row["baseline_memory_delta"] == 1_024 and row["current_memory_delta"] == 5_120
    assert row["memory_change"] == 4_096
    assert row["baseline_success_rate"] == 100.0 and row["current_success_rate"] == 80.0
    assert row["success_rate_change"] == -20.0
    markdown = comparison_markdown(frame)
    assert "+4.00 KiB" in markdown and "100.0% → 80.0%" in markdown
    # No memory measured: NaN, shown as a dash.
    row = compare(_run({"x": [1_000_000] * 10}), _run({"x": [1_000_000] * 10})).loc["x"]
    assert math.isnan(row["memory_change"])


def test_operations_on_one_side_only_and_selection() -> None:
    baseline = _run({"kept": _lognormal_ns(13, 50, 1.0), "dropped": [1_000_000] * 10})
    current = _run({"kept": _lognormal_ns(14, 50, 1.0), "added": [1_000_000] * 10})
    frame = compare(baseline, current)
    assert list(frame.index) == ["kept", "dropped", "added"]
    assert frame.loc["dropped", "verdict"] == "only in baseline"
    assert frame.loc["added", "verdict"] == "only in current"
    assert frame.loc["added", "current_calls"] == 10 and frame.loc["added", "baseline_calls"] == 0
    assert list(compare(baseline, current, operations=["kept"]).index) == ["kept"]
    with pytest.raises(KeyError, match="nowhere"):
        compare(baseline, current, operations=["nowhere"])
    with pytest.raises(TypeError, match="baseline must be a Snapshot"):
        compare(42, current)  # type: ignore[arg-type]


def test_current_defaults_to_the_shared_profiler(shared_profiler: PerformanceProfiler) -> None:
    for _ in range(8):
        with shared_profiler.profile_block("shared_op"):
            pass
    baseline = _run({"shared_op": [1_000_000] * 8})
    frame = compare(baseline.snapshot())
    assert frame.loc["shared_op", "current_calls"] == 8


def test_failed_calls_are_not_compared_as_durations() -> None:
    baseline = _run({"op": [1_000_000] * 20})
    current = _run({"op": [1_000_000] * 20}, failures={"op": 5})
    row = compare(baseline, current).loc["op"]
    assert row["current_calls"] == 20 and row["current_success_rate"] == 80.0


# -- two operations of one profiler ---------------------------------------------------------
def test_compare_operations_in_one_profiler() -> None:
    profiler = _run({"old": _lognormal_ns(15, 200, 1.0), "new": _lognormal_ns(16, 200, 1.0)})
    frame = profiler.compare_operations("old", "new")
    assert list(frame.index) == ["new vs old"]
    assert frame.attrs["baseline_operation"] == "old" and frame.attrs["current_operation"] == "new"
    assert frame.iloc[0]["verdict"] in {"same", INCONCLUSIVE}
    constant = _run({"a": [1_000_000] * 50, "b": [1_160_000] * 50})
    row = compare_operations(constant, "a", "b").iloc[0]
    assert row["verdict"] == "slower" and row["change"] == "1.16x slower"
    assert row["ci_low"] == row["ci_high"] == pytest.approx(1.16)
    with pytest.raises(KeyError, match="did you mean 'b'"):
        compare_operations(constant, "a", "bb")


# -- markdown ------------------------------------------------------------------------------
def test_comparison_markdown_wording_legend_and_escaping() -> None:
    baseline = _run({HOSTILE: [1_000_000 + i % 3 * 1_000 for i in range(60)], "few": [1_000] * 3})
    current = _run({HOSTILE: [1_160_000 + i % 3 * 1_160 for i in range(60)], "few": [2_000] * 3})
    frame = compare(baseline, current)
    text = comparison_markdown(frame, title="Before | after")
    lines = text.splitlines()
    assert lines[0] == "## Before \\| after"
    table = [line for line in lines if line.startswith("| ")]
    assert len(table) == 3  # header and one row per operation
    assert "a\\|b\\`&lt;script&gt;alert(1)&lt;/script&gt; x" in table[1]
    assert "<script>" not in text
    assert "1.16x slower" in table[1] and "| slower |" in table[1]
    assert "inconclusive: need more calls (about" in table[2]
    assert all(row.count(" | ") == table[0].count(" | ") for row in table)
    legend = lines[-1]
    assert legend.startswith("**Legend.**")
    for phrase in ("Mann-Whitney U", "bootstrap", "10,000 resamples", "p < 0.01", "5%"):
        assert phrase in legend
    with pytest.raises(TypeError, match="comparison_markdown"):
        comparison_markdown({"verdict": []})


def test_baseline_flow_of_the_compare_magic(tmp_path: Path) -> None:
    # What %wdbx_compare --baseline PATH does: compare(load_session(path), profiler).
    path = _run({"op": [1_000_000] * 30}).save(tmp_path / "base.json")
    current = _run({"op": [1_250_000] * 30})
    text = comparison_markdown(compare(load_session(path), current))
    assert "1.25x slower" in text and "| slower |" in text


# -- bounded work ---------------------------------------------------------------------------
def test_resamples_are_bounded_before_anything_is_allocated() -> None:
    baseline, current = _run({"op": [1_000_000] * 10}), _run({"op": [1_000_000] * 10})
    for call in (
        lambda: compare(baseline, current, resamples=10**9),
        lambda: compare_operations(baseline, "op", "op", resamples=10**9),
        lambda: compare_samples([1] * 10, [1] * 10, resamples=10**9),
    ):
        with pytest.raises(ValueError, match=r"from 2,000 to 1,000,000 .*got 1000000000"):
            call()
    assert len(compare(baseline, current, resamples=MAX_RESAMPLES)) == 1


# -- a baseline from the same session, and identical data -----------------------------------
def test_a_baseline_from_the_same_session_compares_only_the_calls_after_it(
    tmp_path: Path,
) -> None:
    clock = FakeClock(1_000_000_000)
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    before = _lognormal_ns(21, 300, 1.0, sigma=0.2)
    after = [2 * v for v in _lognormal_ns(22, 300, 1.0, sigma=0.2)]
    for ns in before:
        with profiler.profile_block("op"):
            clock.advance_ns(ns)
    path = profiler.save(tmp_path / "baseline.json")
    taken = profiler.snapshot()
    for ns in after:
        with profiler.profile_block("op"):
            clock.advance_ns(ns)
    with pytest.raises(RuntimeError), profiler.profile_block("op"):
        raise RuntimeError("one failure after the baseline")
    for baseline in (load_session(path), taken):
        frame = compare(baseline, profiler)
        row = frame.loc["op"]
        assert frame.attrs["since_baseline"] == ["op"]
        # The current side is exactly the 300 calls after the baseline (a true 2x change).
        assert row["baseline_calls"] == 300 and row["current_calls"] == 300
        assert row["current_median_ms"] == np.median(after) / 1e6
        assert row["ratio"] == pytest.approx(np.median(after) / np.median(before), rel=1e-12)
        assert 1.8 < row["ci_low"] < row["ratio"] < row["ci_high"] < 2.3
        assert row["verdict"] == "slower"
        assert row["current_success_rate"] == pytest.approx(100 * 300 / 301)
    # Without new calls there is nothing to cut: the same data is compared, and is the same.
    snap = profiler.snapshot()
    same = compare(snap, snap).loc["op"]
    assert same["verdict"] == "same" and same["change"] == "same"
    assert compare(snap, snap).attrs["since_baseline"] == []
    # Another run's file is never cut.
    other = _run({"op": after})
    assert compare(load_session(path), other).attrs["since_baseline"] == []


def test_identical_or_unchanged_data_reads_same_never_1_00x_slower() -> None:
    noisy = _lognormal_ns(23, 8, 1.0, sigma=0.5)
    row = compare(_run({"op": noisy}), _run({"op": noisy})).loc["op"]
    assert row["verdict"] == "same" and row["change"] == "same"  # identical data
    assert row["ci_low"] < 1 < row["ci_high"]
    few = compare(_run({"op": noisy[:3]}), _run({"op": noisy[:3]})).loc["op"]
    assert few["verdict"] == INCONCLUSIVE and few["change"] == "same"
    # A ratio that rounds to 1.00 is "same" whatever the interval.
    base = [1_000_000 + i % 10 * 50_000 for i in range(40)]
    cur = [v + 1_000 for v in base]
    row = compare(_run({"op": base}), _run({"op": cur})).loc["op"]
    assert row["ratio"] == pytest.approx(1.0009, abs=5e-4) and row["change"] == "same"
    # A change within the threshold whose interval spans 1 is "same", not "1.03x slower".
    wide = [1_000_000 + i % 10 * 200_000 for i in range(40)]
    row = compare(_run({"op": wide}), _run({"op": [int(v * 1.03) for v in wide]})).loc["op"]
    assert row["ci_low"] < 1 < row["ci_high"] and row["change"] == "same"
    assert row["verdict"] == INCONCLUSIVE


def test_the_public_compare_stays_callable_after_its_module_is_imported() -> None:
    import subprocess
    import sys

    code = (
        "import wdbx_notebook\n"
        "from wdbx_notebook import PerformanceProfiler\n"
        "p = PerformanceProfiler(track_memory=False)\n"
        "with p.profile_block('a'): pass\n"
        "p.compare_operations('a', 'a')  # imports wdbx_notebook.compare, the module\n"
        "from wdbx_notebook import compare\n"
        "print(compare(p.snapshot(), p).loc['a', 'baseline_calls'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
