"""OpenTelemetry and Prometheus export: the profiler's exact aggregates, checked against numpy."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from wdbx_notebook import PerformanceProfiler
from wdbx_notebook.export import DEFAULT_BOUNDS_MS, PrometheusCollector, bucket_counts, to_otel

RNG = np.random.default_rng(7)
HOSTILE = [
    "<script>alert(1)</script>",
    "a\nb",
    'quote"back\\slash',
    "bidi\u202eevil",
    "zero\u200bwidth",
    "lone\udcffsurrogate",
]


def _durations(n: int) -> list[int]:
    return [int(d) for d in RNG.lognormal(mean=15.0, sigma=1.2, size=n)]  # ~3 ms, wide


def _points(data: object) -> dict[str, object]:
    metrics = data.resource_metrics[0].scope_metrics[0].metrics  # type: ignore[attr-defined]
    return {m.name: m for m in metrics}


def _expected_buckets(durations: list[int], bounds_ms: tuple[float, ...]) -> list[int]:
    edges = np.asarray(bounds_ms) * 1e6
    return np.bincount(
        np.searchsorted(edges, np.asarray(durations, dtype=float), side="left"),
        minlength=len(edges) + 1,
    ).tolist()


def test_otel_histogram_is_exact(
    profiler: PerformanceProfiler, timed_op: Callable[..., None]
) -> None:
    loads, saves = _durations(500), _durations(40)
    timed_op("load", loads)
    timed_op("save", saves, fail=frozenset({3, 7}))
    ok_saves = [d for i, d in enumerate(saves) if i not in {3, 7}]
    metrics = _points(to_otel(profiler))
    histogram = metrics["wdbx.operation.duration"]
    assert histogram.unit == "ms"
    points = {p.attributes["operation"]: p for p in histogram.data.data_points}
    for name, durations in (("load", loads), ("save", ok_saves)):
        point = points[name]
        values = np.asarray(durations, dtype=np.int64)
        assert point.count == len(durations)
        assert point.sum == pytest.approx(values.sum() / 1e6, rel=1e-15)
        assert point.min == values.min() / 1e6 and point.max == values.max() / 1e6
        assert list(point.bucket_counts) == _expected_buckets(durations, DEFAULT_BOUNDS_MS)
        assert list(point.explicit_bounds) == list(DEFAULT_BOUNDS_MS)
    calls = {
        (p.attributes["operation"], p.attributes["outcome"]): p.value
        for p in metrics["wdbx.operation.calls"].data.data_points
    }
    assert calls == {("load", "success"): 500, ("save", "success"): 38, ("save", "error"): 2}
    assert metrics["wdbx.operation.calls"].data.is_monotonic


def test_bucket_counts_past_the_exact_limit(
    profiler: PerformanceProfiler, timed_op: Callable[..., None]
) -> None:
    durations = _durations(12_000)
    timed_op("many", durations)
    stats = profiler.operation_stats("many")
    assert not stats.distribution.is_exact
    counts = bucket_counts(stats, DEFAULT_BOUNDS_MS)
    expected = _expected_buckets(durations, DEFAULT_BOUNDS_MS)
    assert sum(counts) == 12_000
    # Sketch buckets are 2^-12 of their value wide: only values that close to a bound move.
    edges = np.asarray(DEFAULT_BOUNDS_MS[1:]) * 1e6
    values = np.asarray(durations, dtype=float)
    near = int(sum(np.sum(np.abs(values - e) <= e * 2.0**-11) for e in edges))
    assert np.abs(np.subtract(counts, expected)).sum() <= 2 * near


def test_otel_serialises_hostile_names(profiler: PerformanceProfiler) -> None:
    for name in HOSTILE:
        with profiler.profile_block(name):
            pass
    data = to_otel(profiler)
    text = data.to_json()
    names = {
        p["attributes"]["operation"]
        for m in json.loads(text)["resource_metrics"][0]["scope_metrics"][0]["metrics"]
        for p in m["data"]["data_points"]
    }
    assert len(names) == len(HOSTILE)
    assert "lone\\udcffsurrogate" in names and "a\nb" in names
    text.encode("utf-8")  # no lone surrogate survives


def test_otel_reads_a_snapshot_and_refuses_bad_bounds(profiler: PerformanceProfiler) -> None:
    with profiler.profile_block("x"):
        pass
    assert _points(to_otel(profiler.snapshot()))["wdbx.operation.duration"].data.data_points
    with pytest.raises(ValueError, match="strictly increasing"):
        to_otel(profiler, bounds_ms=[5, 1])
    with pytest.raises(TypeError, match="expected a PerformanceProfiler"):
        to_otel(42)


def test_prometheus_collector_is_exact(
    profiler: PerformanceProfiler, timed_op: Callable[..., None]
) -> None:
    durations = _durations(300)
    timed_op("query", durations, fail=frozenset({0}))
    ok = np.asarray(durations[1:], dtype=np.int64)
    registry = CollectorRegistry()
    registry.register(PrometheusCollector(profiler))
    families = {
        f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())
    }
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    q = (("operation", "query"),)
    assert samples[("wdbx_operation_duration_seconds_count", q)] == 299
    assert samples[("wdbx_operation_duration_seconds_sum", q)] == pytest.approx(
        ok.sum() / 1e9, rel=1e-12
    )
    assert samples[("wdbx_operation_duration_min_seconds", q)] == ok.min() / 1e9
    assert samples[("wdbx_operation_duration_max_seconds", q)] == ok.max() / 1e9
    expected = np.cumsum(_expected_buckets(ok.tolist(), DEFAULT_BOUNDS_MS)).tolist()
    got = [
        samples[("wdbx_operation_duration_seconds_bucket", tuple(sorted((*q, ("le", le)))))]
        for le in [*(f"{b / 1000:g}" for b in DEFAULT_BOUNDS_MS), "+Inf"]
        if ("wdbx_operation_duration_seconds_bucket", tuple(sorted((*q, ("le", le))))) in samples
    ]
    assert got == expected
    calls = "wdbx_operation_calls_total"
    assert samples[(calls, (("operation", "query"), ("outcome", "success")))] == 299
    assert samples[(calls, (("operation", "query"), ("outcome", "error")))] == 1


def test_prometheus_scrapes_see_new_calls_and_escape_names(profiler: PerformanceProfiler) -> None:
    registry = CollectorRegistry()
    registry.register(PrometheusCollector(profiler))
    assert b"wdbx_operation_calls_total{" not in generate_latest(registry)
    for name in HOSTILE:
        with profiler.profile_block(name):
            pass
    text = generate_latest(registry).decode("utf-8")
    assert "\n" not in "".join(
        line for line in text.splitlines() if line.startswith("wdbx_operation_calls_total")
    )
    labels = {
        s.labels["operation"]
        for f in text_string_to_metric_families(text)
        if f.name == "wdbx_operation_calls"
        for s in f.samples
    }
    assert labels == {n.encode("utf-8", "backslashreplace").decode() for n in HOSTILE}


def test_prometheus_collector_refuses_what_it_cannot_read() -> None:
    with pytest.raises(TypeError, match="expected a PerformanceProfiler"):
        PrometheusCollector("not a profiler")
