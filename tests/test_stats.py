"""Every statistic against numpy and statistics on the same data."""

from __future__ import annotations

import math
import random
import statistics

import numpy as np
import pytest

from wdbx_notebook import PerformanceProfiler
from wdbx_notebook._clock import FakeClock
from wdbx_notebook.stats import (
    EXACT_SAMPLE_LIMIT,
    SKETCH_RELATIVE_ERROR,
    DurationDistribution,
    OperationStats,
    percentile_linear,
)


def _expected(durations_ns: list[int]) -> dict[str, float]:
    ms = np.array(durations_ns, dtype=np.float64) / 1e6
    return {
        "total_duration_ms": float(ms.sum()),
        "avg_duration_ms": float(np.mean(ms)),
        "min_duration_ms": float(ms.min()),
        "max_duration_ms": float(ms.max()),
        "median_duration_ms": float(np.percentile(ms, 50)),
        "p90_duration_ms": float(np.percentile(ms, 90)),
        "p95_duration_ms": float(np.percentile(ms, 95)),
        "p99_duration_ms": float(np.percentile(ms, 99)),
        "std_duration_ms": statistics.stdev(ms.tolist()),
    }


@pytest.mark.parametrize("n", [2, 3, 7, 20, 101, 5_000])
def test_duration_statistics_match_numpy(n, timed_op, profiler):
    rng = random.Random(n)
    durations = [rng.randint(1_000, 50_000_000) for _ in range(n)]
    timed_op("op", durations)
    stats = profiler.get_statistics("op")
    for key, value in _expected(durations).items():
        assert stats[key] == pytest.approx(value, rel=1e-12), key
    assert stats["percentiles_exact"] is True
    assert stats["call_count"] == stats["success_count"] == n


def test_exact_numbers_on_a_fake_clock(timed_op, profiler):
    timed_op("op", [1_000_000, 2_000_000, 3_000_000, 4_000_000])
    stats = profiler.get_statistics("op")
    assert stats["total_duration_ms"] == 10.0
    assert stats["avg_duration_ms"] == 2.5
    assert stats["min_duration_ms"] == 1.0
    assert stats["max_duration_ms"] == 4.0
    assert stats["median_duration_ms"] == 2.5
    assert stats["p90_duration_ms"] == pytest.approx(3.7)
    assert stats["std_duration_ms"] == pytest.approx(math.sqrt(5 / 3))


def test_failed_calls_count_in_rates_not_durations(timed_op, profiler):
    durations = [1_000_000, 9_000_000, 2_000_000, 3_000_000, 50_000_000]
    timed_op("op", durations, fail=frozenset({1, 4}))
    stats = profiler.get_statistics("op")
    ok = [1_000_000, 2_000_000, 3_000_000]
    assert stats["call_count"] == 5
    assert stats["success_count"] == 3
    assert stats["error_count"] == 2
    assert stats["success_rate"] == 60.0
    assert stats["errors_by_type"] == {"ValueError": 2}
    for key, value in _expected(ok).items():
        assert stats[key] == pytest.approx(value, rel=1e-12), key


def test_calls_per_second_is_calls_over_the_observed_span(profiler, clock):
    @profiler.profile("op")
    def call() -> None:
        clock.advance_ms(10)

    for _ in range(4):
        call()
        clock.advance_ms(90)
    # First start to last end: 3 gaps of 100 ms plus one 10 ms call = 310 ms.
    assert profiler.get_statistics("op")["calls_per_second"] == pytest.approx(4 / 0.310)


def test_calls_per_second_needs_two_calls(timed_op, profiler):
    timed_op("op", [5_000_000])
    assert profiler.get_statistics("op")["calls_per_second"] == 0.0


def test_first_and_last_call_are_wall_clock_seconds(profiler, clock):
    import time

    before = time.time()
    with profiler.profile_block("op"):
        clock.advance_ms(5)
    stats = profiler.get_statistics("op")
    # Epoch seconds as floats resolve about a quarter of a microsecond today.
    assert stats["last_call"] - stats["first_call"] == pytest.approx(0.005, abs=1e-6)
    assert abs(stats["first_call"] - before) < 5


def test_single_call_has_zero_std_and_itself_as_every_percentile(timed_op, profiler):
    timed_op("op", [7_000_000])
    stats = profiler.get_statistics("op")
    assert stats["std_duration_ms"] == 0.0
    assert stats["median_duration_ms"] == stats["p99_duration_ms"] == 7.0


def test_only_failures_gives_zero_durations(timed_op, profiler):
    timed_op("op", [1_000, 2_000], fail=frozenset({0, 1}))
    stats = profiler.get_statistics("op")
    assert stats["success_rate"] == 0.0
    assert stats["avg_duration_ms"] == stats["p95_duration_ms"] == 0.0


def test_memory_statistics_match_numpy():
    clock = FakeClock()
    readings = iter(range(0, 10**9, 1))
    deltas = [4096, -8192, 0, 123_456, 7]
    state = {"rss": 10_000_000}

    def probe() -> int:
        next(readings)
        return state["rss"]

    profiler = PerformanceProfiler(clock=clock)
    profiler._probe_for = lambda mode: probe  # type: ignore[method-assign]

    @profiler.profile("op")
    def grow(delta: int) -> None:
        state["rss"] += delta

    for delta in deltas:
        grow(delta)
    stats = profiler.get_statistics("op")
    assert stats["avg_memory_delta"] == pytest.approx(np.mean(deltas))
    assert stats["total_memory_impact"] == sum(deltas)
    assert stats["max_memory_delta"] == max(deltas)
    assert stats["memory_call_count"] == len(deltas)


def test_percentile_linear_is_numpy_type_7():
    rng = random.Random(7)
    for n in (1, 2, 5, 100):
        values = sorted(rng.random() for _ in range(n))
        for q in (0, 0.1, 0.5, 0.9, 0.95, 0.99, 1):
            assert percentile_linear(values, q) == pytest.approx(np.percentile(values, q * 100))


def test_statistics_stay_exact_past_the_history_and_sample_limits():
    clock = FakeClock()
    profiler = PerformanceProfiler(clock=clock, track_memory=False, history_limit=100)
    rng = np.random.default_rng(1)
    durations = rng.lognormal(mean=11, sigma=0.6, size=EXACT_SAMPLE_LIMIT * 3).astype(np.int64)

    @profiler.profile("op")
    def call(duration: int) -> None:
        clock.advance_ns(duration)

    for duration in durations.tolist():
        call(duration)
    stats = profiler.get_statistics("op")
    ms = durations / 1e6
    assert stats["call_count"] == len(durations)
    assert stats["percentiles_exact"] is False
    assert stats["total_duration_ms"] == pytest.approx(ms.sum(), rel=1e-12)
    assert stats["avg_duration_ms"] == pytest.approx(ms.mean(), rel=1e-12)
    assert stats["std_duration_ms"] == pytest.approx(ms.std(ddof=1), rel=1e-9)
    assert stats["min_duration_ms"] == ms.min()
    assert stats["max_duration_ms"] == ms.max()
    for key, q in (("median", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        exact = np.percentile(ms, q)
        assert stats[f"{key}_duration_ms"] == pytest.approx(exact, rel=SKETCH_RELATIVE_ERROR * 1.01)
    assert len(profiler.get_call_history("op")["op"]) == 100


def test_sketch_error_bound_holds_on_wide_data():
    rng = np.random.default_rng(3)
    values = rng.integers(50, 10**11, size=50_000)
    dist = DurationDistribution()
    dist.add(values)
    assert not dist.is_exact
    fractions = [0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 1.0]
    got = dist.quantiles_ns(fractions)
    for value, q in zip(got, fractions, strict=True):
        exact = np.percentile(values, q * 100)
        assert abs(value / exact - 1) <= SKETCH_RELATIVE_ERROR


@pytest.mark.parametrize(
    "shape",
    ["dense (counted)", "one slow call among fast ones (sorted)", "wide (sorted)"],
)
def test_sketch_buckets_count_every_value_once_whichever_way_they_are_counted(shape):
    # Densely packed keys are counted with bincount, spread ones with np.unique:
    # both must give exactly the bucket counts of a plain Counter.
    from collections import Counter

    from wdbx_notebook.stats import bucket_keys

    rng = np.random.default_rng(7)
    if shape.startswith("dense"):
        values = rng.integers(1_000, 1_010, size=4_096)
    elif shape.startswith("one slow"):
        values = rng.integers(150, 400, size=4_096)
        values[::1_000] = 20_000_000
    else:
        values = rng.integers(50, 10**11, size=4_096)
    dist = DurationDistribution()
    dist.add_sketch_of(values)
    expected = Counter(bucket_keys(values).tolist())
    assert dist._buckets == dict(expected)
    assert dist.count == len(values) == sum(dist._buckets.values())
    # Added again, every bucket doubles.
    dist.add_sketch_of(values)
    assert dist._buckets == {key: 2 * count for key, count in expected.items()}


def _stats_of(durations: list[int]) -> OperationStats:
    stats = OperationStats()
    starts = np.arange(len(durations), dtype=np.int64) * 10**9
    ends = starts + np.array(durations, dtype=np.int64)
    stats.add_successes(starts, ends)
    return stats


@pytest.mark.parametrize("sizes", [(3, 4), (1, 1), (5_000, 7_000), (0, 5)])
def test_merge_equals_statistics_of_the_concatenation(sizes):
    rng = np.random.default_rng(sum(sizes))
    a = rng.integers(1_000, 10**8, size=sizes[0]).tolist()
    b = rng.integers(1_000, 10**8, size=sizes[1]).tolist()
    merged = _stats_of(a)
    merged.merge(_stats_of(b))
    both = _stats_of(a + b).summary()
    result = merged.summary()
    for key in ("call_count", "total_duration_ms", "min_duration_ms", "max_duration_ms"):
        assert result[key] == both[key]
    assert result["avg_duration_ms"] == pytest.approx(both["avg_duration_ms"], rel=1e-12)
    assert result["std_duration_ms"] == pytest.approx(both["std_duration_ms"], rel=1e-9)
    for key in ("median_duration_ms", "p95_duration_ms", "p99_duration_ms"):
        assert result[key] == pytest.approx(both[key], rel=2 * SKETCH_RELATIVE_ERROR)


def test_to_dict_round_trip_keeps_every_statistic():
    original = _stats_of(list(range(1_000, 30_000_000, 1_234)))
    rebuilt = OperationStats.from_dict(original.to_dict())
    assert rebuilt.summary() == original.summary()
