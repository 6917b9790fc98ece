"""Export for production monitoring: OpenTelemetry metrics and a Prometheus collector.

Both read a :class:`~wdbx_notebook.snapshot.Snapshot` (the live profiler, a
saved session, a cluster's collected calls) and hand over what the profiler
already aggregated, exactly: per operation one duration histogram whose count,
sum, minimum and maximum are those of every successful call, and a call
counter by outcome. Nothing is re-recorded, so exporting costs nothing per call.

>>> from wdbx_notebook import PerformanceProfiler
>>> from wdbx_notebook.export import to_otel
>>> profiler = PerformanceProfiler()
>>> with profiler.profile_block("load"):
...     pass
>>> data = to_otel(profiler)                                   # OpenTelemetry MetricsData
>>> metric = data.resource_metrics[0].scope_metrics[0].metrics[0]
>>> metric.name, metric.data.data_points[0].count
('wdbx.operation.duration', 1)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from .snapshot import Snapshot, as_snapshot
from .stats import OperationStats

__all__ = ["DEFAULT_BOUNDS_MS", "PrometheusCollector", "bucket_counts", "to_otel"]

#: OpenTelemetry's default explicit histogram boundaries, in milliseconds.
DEFAULT_BOUNDS_MS: tuple[float, ...] = (
    0.0,
    5.0,
    10.0,
    25.0,
    50.0,
    75.0,
    100.0,
    250.0,
    500.0,
    750.0,
    1000.0,
    2500.0,
    5000.0,
    7500.0,
    10000.0,
)

_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000


def _text(value: str) -> str:
    """A name that every exporter can encode (lone surrogates become ``\\udcxx``)."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _check_bounds(bounds_ms: Sequence[float]) -> list[float]:
    bounds = [float(b) for b in bounds_ms]
    if any(b != b for b in bounds) or any(a >= b for a, b in itertools.pairwise(bounds)):
        raise ValueError(f"bounds_ms must be strictly increasing numbers, got {list(bounds_ms)!r}")
    return bounds


def bucket_counts(stats: OperationStats, bounds_ms: Sequence[float]) -> list[int]:
    """Successful calls per histogram bucket: ``len(bounds_ms) + 1`` counts that add up
    to the success count (bucket i holds durations in ``(bounds[i-1], bounds[i]]``).

    Exact while the percentiles are exact; past that each sketch bucket (2⁻¹² of its
    value wide) is counted where its middle falls.
    """
    import numpy as np

    edges_ns = np.asarray(_check_bounds(bounds_ms), dtype=np.float64) * _NS_PER_MS
    dist = stats.distribution
    if dist._exact is not None:
        values = np.asarray(dist._exact, dtype=np.float64)
        weights = None
    else:
        from .stats import bucket_midpoints

        keys = np.fromiter(dist._buckets.keys(), dtype=np.int64, count=len(dist._buckets))
        values = bucket_midpoints(keys)
        weights = np.fromiter(dist._buckets.values(), dtype=np.int64, count=len(dist._buckets))
    slots = np.searchsorted(edges_ns, values, side="left")
    counts = np.bincount(slots, weights=weights, minlength=len(edges_ns) + 1)
    return [int(c) for c in counts]


def _operations(snapshot: Snapshot) -> Iterator[tuple[str, OperationStats]]:
    for name in snapshot.get_all_operations():
        # The snapshot's own aggregates, read only (a copy per operation would dominate).
        yield name, snapshot._stats[name]


def to_otel(
    source: Any = None,
    *,
    bounds_ms: Sequence[float] = DEFAULT_BOUNDS_MS,
    resource: Any = None,
    scope: str = "wdbx_notebook",
) -> Any:
    """Pre-aggregated OpenTelemetry ``MetricsData`` of ``source`` (the shared profiler
    when None; a profiler or any Snapshot), ready for any OTLP exporter.

    Metrics (cumulative), with the attribute ``operation``:

    * ``wdbx.operation.duration`` (histogram, ms): one point per operation whose
      ``count``, ``sum``, ``min`` and ``max`` are exactly those of its successful
      calls; ``bucket_counts`` over ``bounds_ms`` (see :func:`bucket_counts`);
    * ``wdbx.operation.calls`` (monotonic sum): calls per operation and ``outcome``
      (``"success"`` or ``"error"``).

    Send it with, for example,
    ``OTLPMetricExporter().export(to_otel(profiler))``. Needs the ``[otel]``
    extra (``opentelemetry-sdk``).
    """
    try:
        from opentelemetry.sdk.metrics.export import (
            AggregationTemporality,
            Histogram,
            HistogramDataPoint,
            Metric,
            MetricsData,
            NumberDataPoint,
            ResourceMetrics,
            ScopeMetrics,
            Sum,
        )
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    except ImportError as err:
        raise ImportError(
            "to_otel needs opentelemetry-sdk; install it with: pip install 'wdbx_notebook[otel]'"
        ) from err
    bounds = _check_bounds(bounds_ms)
    snapshot = as_snapshot(source)
    now_ns = int(snapshot.saved_at * _NS_PER_S)
    durations = []
    calls = []
    for name, stats in _operations(snapshot):
        attributes = {"operation": _text(name)}
        start_ns = stats.first_start_ns if stats.first_start_ns is not None else now_ns
        end_ns = max(now_ns, stats.last_end_ns or now_ns)
        if stats.success_count:
            durations.append(
                HistogramDataPoint(
                    attributes=attributes,
                    start_time_unix_nano=start_ns,
                    time_unix_nano=end_ns,
                    count=stats.success_count,
                    sum=stats.duration_sum_ns / _NS_PER_MS,
                    bucket_counts=bucket_counts(stats, bounds),
                    explicit_bounds=bounds,
                    min=(stats.duration_min_ns or 0) / _NS_PER_MS,
                    max=(stats.duration_max_ns or 0) / _NS_PER_MS,
                )
            )
        for outcome, value in (("success", stats.success_count), ("error", stats.error_count)):
            if value:
                calls.append(
                    NumberDataPoint(
                        attributes={**attributes, "outcome": outcome},
                        start_time_unix_nano=start_ns,
                        time_unix_nano=end_ns,
                        value=value,
                    )
                )
    cumulative = AggregationTemporality.CUMULATIVE
    metrics = [
        Metric(
            name="wdbx.operation.duration",
            description="Duration of each operation's successful calls",
            unit="ms",
            data=Histogram(data_points=durations, aggregation_temporality=cumulative),
        ),
        Metric(
            name="wdbx.operation.calls",
            description="Calls of each operation by outcome",
            unit="{call}",
            data=Sum(data_points=calls, aggregation_temporality=cumulative, is_monotonic=True),
        ),
    ]
    return MetricsData(
        resource_metrics=[
            ResourceMetrics(
                resource=resource if resource is not None else Resource.create(),
                scope_metrics=[
                    ScopeMetrics(
                        scope=InstrumentationScope(scope),
                        metrics=metrics,
                        schema_url="",
                    )
                ],
                schema_url="",
            )
        ]
    )


class PrometheusCollector:
    """A ``prometheus_client`` collector of a profiler's (or snapshot's) statistics.

    ``REGISTRY.register(PrometheusCollector(profiler))`` and every scrape reads
    the profiler then: ``wdbx_operation_duration_seconds`` (histogram of
    successful calls, exact count and sum), ``wdbx_operation_duration_min_seconds``
    and ``..._max_seconds`` (gauges) and ``wdbx_operation_calls_total`` by
    ``outcome``, all labelled with ``operation``. Needs the ``[prometheus]``
    extra (``prometheus_client``).

    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler()
    >>> with profiler.profile_block("load"):
    ...     pass
    >>> registry = CollectorRegistry()
    >>> registry.register(PrometheusCollector(profiler))
    >>> b'wdbx_operation_calls_total{operation="load",outcome="success"} 1.0' in generate_latest(
    ...     registry)
    True
    """

    def __init__(
        self,
        source: Any = None,
        *,
        bounds_ms: Sequence[float] = DEFAULT_BOUNDS_MS,
        prefix: str = "wdbx",
    ) -> None:
        try:
            import prometheus_client  # noqa: F401
        except ImportError as err:
            raise ImportError(
                "PrometheusCollector needs prometheus_client; install it with: "
                "pip install 'wdbx_notebook[prometheus]'"
            ) from err
        if source is not None and not isinstance(source, Snapshot):
            as_snapshot(source)  # refuse what cannot be read now, not at the first scrape
        self.source = source
        self.bounds_ms = _check_bounds(bounds_ms)
        self.prefix = prefix

    def describe(self) -> list[Any]:
        """No fixed description: the registry then calls :meth:`collect` to learn the names."""
        return []

    def collect(self) -> Iterator[Any]:
        """The metric families now (called by ``prometheus_client`` at each scrape)."""
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        p = self.prefix
        duration = HistogramMetricFamily(
            f"{p}_operation_duration_seconds",
            "Duration of each operation's successful calls",
            labels=["operation"],
        )
        low = GaugeMetricFamily(
            f"{p}_operation_duration_min_seconds",
            "Shortest successful call of each operation",
            labels=["operation"],
        )
        high = GaugeMetricFamily(
            f"{p}_operation_duration_max_seconds",
            "Longest successful call of each operation",
            labels=["operation"],
        )
        calls = CounterMetricFamily(
            f"{p}_operation_calls",
            "Calls of each operation by outcome",
            labels=["operation", "outcome"],
        )
        edges = [*(f"{b / 1000:g}" for b in self.bounds_ms), "+Inf"]
        for name, stats in _operations(as_snapshot(self.source)):
            label = _text(name)
            if stats.success_count:
                running, buckets = 0, []
                for edge, count in zip(edges, bucket_counts(stats, self.bounds_ms), strict=True):
                    running += count
                    buckets.append((edge, running))
                duration.add_metric([label], buckets, stats.duration_sum_ns / _NS_PER_S)
                low.add_metric([label], (stats.duration_min_ns or 0) / _NS_PER_S)
                high.add_metric([label], (stats.duration_max_ns or 0) / _NS_PER_S)
            calls.add_metric([label, "success"], stats.success_count)
            if stats.error_count:
                calls.add_metric([label, "error"], stats.error_count)
        yield from (duration, low, high, calls)
