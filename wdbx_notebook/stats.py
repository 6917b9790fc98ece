"""Per-operation aggregates: exact counts, sums and extremes, and a duration distribution.

Plain data, no I/O, no locks: the profiler feeds batches of call records in as
numpy int64 columns and asks for a summary when a user wants numbers. numpy is
imported inside the functions, so ``import wdbx_notebook`` stays light.

Definitions (also in the README):

* Durations are integer nanoseconds from a monotonic clock; statistics report
  milliseconds. Duration statistics cover successful calls only; failed calls
  count in ``call_count``, ``error_count`` and ``success_rate``.
* Count, sum, min and max are exact over every call. Mean and the sample
  standard deviation (n - 1) are kept as a running mean and sum of squared
  deviations, combined batch by batch with Chan's parallel formula, so they
  cover every call in O(1) memory and merge across processes.
* Percentiles use linear interpolation between order statistics (numpy's
  default ``"linear"`` method, Hyndman and Fan type 7). Up to
  :data:`EXACT_SAMPLE_LIMIT` successful calls every duration is kept and the
  percentiles are exact; beyond that they come from a log-linear histogram
  whose buckets are 2**-12 of their value wide, so each percentile is within
  :data:`SKETCH_RELATIVE_ERROR` (0.013%) of the exact one.
* Memory statistics cover every call (successful or failed) that has a memory
  figure; a probe that could not read memory marks the call with -1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: Successful calls whose durations are all kept (exact percentiles) before the
#: distribution switches to the bounded histogram sketch.
EXACT_SAMPLE_LIMIT = 10_000

#: A sketch bucket is a double's sign, exponent and leading 12 mantissa bits.
_MANTISSA_BITS = 12
_KEY_SHIFT = 52 - _MANTISSA_BITS

#: Worst relative error of a percentile read from the sketch (half a bucket).
SKETCH_RELATIVE_ERROR = 2.0 ** -(_MANTISSA_BITS + 1)

#: The percentiles every summary reports, as (key, fraction).
PERCENTILES: tuple[tuple[str, float], ...] = (
    ("median_duration_ms", 0.50),
    ("p90_duration_ms", 0.90),
    ("p95_duration_ms", 0.95),
    ("p99_duration_ms", 0.99),
)

#: A first call is a warm-up call when it took more than this many times the median
#: of the other successful calls, with at least WARMUP_MIN_CALLS successful calls.
WARMUP_FACTOR = 5.0
WARMUP_MIN_CALLS = 5

_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000


def percentile_linear(sorted_values: Sequence[float], fraction: float) -> float:
    """numpy's default (type 7) percentile of already sorted values.

    >>> percentile_linear([1, 2, 3, 4], 0.5)
    2.5
    """
    n = len(sorted_values)
    if n == 0:
        return 0.0
    rank = (n - 1) * fraction
    low = math.floor(rank)
    high = min(low + 1, n - 1)
    a, b = float(sorted_values[low]), float(sorted_values[high])
    return a + (b - a) * (rank - low)


def bucket_keys(durations_ns: np.ndarray) -> np.ndarray:
    """Sketch bucket of each duration: the top 24 bits of its IEEE-754 double."""
    import numpy as np

    return np.asarray(durations_ns, dtype=np.float64).view(np.int64) >> _KEY_SHIFT


def bucket_midpoints(keys: np.ndarray) -> np.ndarray:
    """The value in the middle of each bucket, in nanoseconds."""
    import numpy as np

    keys = np.asarray(keys, dtype=np.int64)
    low = (keys << _KEY_SHIFT).view(np.float64)
    high = ((keys + 1) << _KEY_SHIFT).view(np.float64)
    return (low + high) / 2.0


class DurationDistribution:
    """The distribution of successful durations, for percentiles.

    Exact (every value kept) up to :data:`EXACT_SAMPLE_LIMIT` values, then a
    mergeable histogram sketch with bounded relative error and bounded memory.
    """

    __slots__ = ("_buckets", "_exact", "count")

    def __init__(self) -> None:
        self.count = 0
        self._exact: list[int] | None = []
        self._buckets: dict[int, int] = {}

    @property
    def is_exact(self) -> bool:
        """True while every duration is kept and percentiles are exact."""
        return self._exact is not None

    def add(self, durations_ns: np.ndarray) -> None:
        self.count += len(durations_ns)
        if self._exact is not None:
            self._exact.extend(durations_ns.tolist())
            if len(self._exact) <= EXACT_SAMPLE_LIMIT:
                return
            import numpy as np

            durations_ns, self._exact = np.array(self._exact, dtype=np.int64), None
        self._add_to_sketch(durations_ns)

    def _add_to_sketch(self, durations_ns: np.ndarray) -> None:
        import numpy as np

        if not len(durations_ns):
            return  # copying a sketched distribution into an empty one hands over no values
        keys = bucket_keys(durations_ns)
        low = int(keys.min())
        if int(keys.max()) - low <= 2 * len(keys):
            # Densely packed keys: counting beats sorting. (One slow call among fast ones
            # spreads the keys over tens of thousands of buckets, where sorting the
            # batch is several times faster than counting across that range.)
            counts = np.bincount(keys - low)
            present = np.flatnonzero(counts)
            keys, counts = present + low, counts[present]
        else:
            keys, counts = np.unique(keys, return_counts=True)
        buckets = self._buckets
        for key, count in zip(keys.tolist(), counts.tolist(), strict=True):
            buckets[key] = buckets.get(key, 0) + count

    def copy(self) -> DurationDistribution:
        clone = DurationDistribution()
        clone.count = self.count
        clone._exact = None if self._exact is None else list(self._exact)
        clone._buckets = dict(self._buckets)
        return clone

    def merge(self, other: DurationDistribution) -> None:
        import numpy as np

        if other._exact is not None:
            self.add(np.array(other._exact, dtype=np.int64))
            return
        if self._exact is not None:
            exact, self._exact = self._exact, None
            self.count -= len(exact)
            self.add_sketch_of(np.array(exact, dtype=np.int64))
        self.count += other.count
        for key, count in other._buckets.items():
            self._buckets[key] = self._buckets.get(key, 0) + count

    def add_sketch_of(self, durations_ns: np.ndarray) -> None:
        """Add values straight to the sketch (used when switching from exact)."""
        self.count += len(durations_ns)
        self._add_to_sketch(durations_ns)

    def quantiles_ns(self, fractions: Iterable[float]) -> list[float]:
        """Percentiles (type 7 linear interpolation) in nanoseconds."""
        import numpy as np

        fractions = list(fractions)
        if self.count == 0:
            return [0.0 for _ in fractions]
        if self._exact is not None:
            if len(self._exact) <= 256:  # numpy's call overhead outweighs sorting a few values
                ordered = sorted(self._exact)
                return [percentile_linear(ordered, f) for f in fractions]
            values = np.array(self._exact, dtype=np.float64)
            return [float(v) for v in np.quantile(values, fractions)]
        keys = np.array(sorted(self._buckets), dtype=np.int64)
        ends = np.cumsum([self._buckets[k] for k in keys.tolist()])
        mids = bucket_midpoints(keys)
        results = []
        for fraction in fractions:
            rank = (self.count - 1) * fraction
            low = math.floor(rank)
            high = min(low + 1, self.count - 1)
            a = float(mids[np.searchsorted(ends, low, side="right")])
            b = float(mids[np.searchsorted(ends, high, side="right")])
            results.append(a + (b - a) * (rank - low))
        return results

    def to_dict(self) -> dict[str, Any]:
        if self._exact is not None:
            return {"kind": "exact", "values_ns": list(self._exact)}
        return {
            "kind": "sketch",
            "count": self.count,
            "buckets": {str(k): v for k, v in self._buckets.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DurationDistribution:
        import numpy as np

        dist = cls()
        if data["kind"] == "exact":
            dist.add(np.array([int(v) for v in data["values_ns"]], dtype=np.int64))
        elif data["kind"] == "sketch":
            dist._exact = None
            dist._buckets = {int(k): int(v) for k, v in data["buckets"].items()}
            dist.count = int(data["count"])
            if sum(dist._buckets.values()) != dist.count:
                raise ValueError("sketch bucket counts do not add up to its count")
        else:
            raise ValueError(f"unknown distribution kind {data['kind']!r}")
        return dist


class OperationStats:
    """Exact aggregates of one operation's calls.

    Batches come in as numpy int64 columns: start and end clock readings, and
    memory before and after (-1 where unknown). ``wall_offset_ns`` turns clock
    readings into nanoseconds since the epoch for the first and last call.
    """

    __slots__ = (
        "call_count",
        "cpu_count",
        "cpu_sum_ns",
        "cpu_wall_sum_ns",
        "distribution",
        "duration_m2",
        "duration_max_ns",
        "duration_mean_ns",
        "duration_min_ns",
        "duration_sum_ns",
        "error_count",
        "errors_by_type",
        "first_duration_ns",
        "first_start_ns",
        "first_success_start_ns",
        "gc_call_count",
        "gc_known_count",
        "gc_sum_ns",
        "last_end_ns",
        "memory_count",
        "memory_max",
        "memory_min",
        "memory_sum",
        "success_count",
    )

    def __init__(self) -> None:
        self.call_count = 0
        self.success_count = 0
        self.error_count = 0
        self.errors_by_type: dict[str, int] = {}
        self.duration_sum_ns = 0
        self.duration_mean_ns = 0.0
        self.duration_m2 = 0.0  # sum of squared deviations from the mean, ns^2
        self.duration_min_ns: int | None = None
        self.duration_max_ns: int | None = None
        self.distribution = DurationDistribution()
        self.memory_count = 0
        self.memory_sum = 0
        self.memory_min: int | None = None
        self.memory_max: int | None = None
        self.first_start_ns: int | None = None
        self.last_end_ns: int | None = None
        # CPU time of the successful calls that measured it, and their wall time.
        self.cpu_count = 0
        self.cpu_sum_ns = 0
        self.cpu_wall_sum_ns = 0
        # Time spent in garbage collection inside successful calls.
        self.gc_sum_ns = 0
        self.gc_call_count = 0
        # Successful calls whose GC time is known (the recorder ran, on the default clock).
        self.gc_known_count = 0
        # The earliest successful call (by start, ns since the epoch) and its duration.
        self.first_success_start_ns: int | None = None
        self.first_duration_ns: int | None = None

    # -- feeding -----------------------------------------------------------
    def add_successes(
        self,
        starts: np.ndarray,
        ends: np.ndarray,
        mem_before: np.ndarray | None = None,
        mem_after: np.ndarray | None = None,
        wall_offset_ns: int = 0,
        cpu_ns: np.ndarray | None = None,
        gc_ns: np.ndarray | None = None,
    ) -> None:
        """Fold a batch of successful calls in (int64 columns; -1 marks an unknown figure)."""
        import numpy as np

        n = len(starts)
        if not n:
            return
        durations = ends - starts
        batch_sum = int(durations.sum())
        batch_mean = batch_sum / n
        deviations = durations.astype(np.float64)
        deviations -= batch_mean
        batch_m2 = float(deviations @ deviations)  # a dot product: one pass, no temporaries
        self._combine_moments(n, batch_sum, batch_mean, batch_m2)
        self.success_count += n
        self.call_count += n
        self.duration_min_ns = _pick(min, self.duration_min_ns, int(durations.min()))
        self.duration_max_ns = _pick(max, self.duration_max_ns, int(durations.max()))
        self.distribution.add(durations)
        first = int(starts.argmin())
        first_start = int(starts[first]) + wall_offset_ns
        if self.first_success_start_ns is None or first_start < self.first_success_start_ns:
            self.first_success_start_ns = first_start
            self.first_duration_ns = int(durations[first])
        # A broadcast column (stride 0) holds one value: all unknown, or no GC time.
        if cpu_ns is not None and not (cpu_ns.strides == (0,) and cpu_ns[0] < 0):
            known = cpu_ns >= 0
            if known.any():
                self.cpu_count += int(known.sum())
                self.cpu_sum_ns += int(cpu_ns[known].sum())
                self.cpu_wall_sum_ns += int(durations[known].sum())
        if gc_ns is not None and len(gc_ns):
            if gc_ns.strides == (0,):  # one value throughout: unknown, or no GC at all
                self.gc_known_count += n if gc_ns[0] >= 0 else 0
            else:
                self.gc_known_count += int((gc_ns >= 0).sum())
                paused = gc_ns > 0
                if paused.any():
                    self.gc_call_count += int(paused.sum())
                    self.gc_sum_ns += int(gc_ns[paused].sum())
        self._add_span(starts, ends, wall_offset_ns)
        self._add_memory(mem_before, mem_after)

    def add_failures(
        self,
        starts: np.ndarray,
        ends: np.ndarray,
        mem_before: np.ndarray | None,
        mem_after: np.ndarray | None,
        error_names: Sequence[str],
        wall_offset_ns: int = 0,
    ) -> None:
        if not len(starts):
            return
        self.call_count += len(starts)
        self.error_count += len(starts)
        for name in error_names:
            self.errors_by_type[name] = self.errors_by_type.get(name, 0) + 1
        self._add_span(starts, ends, wall_offset_ns)
        self._add_memory(mem_before, mem_after)

    def _combine_moments(self, n_b: int, sum_b: int, mean_b: float, m2_b: float) -> None:
        """Chan et al.'s parallel update of (count, mean, M2) with a batch's."""
        n_a = self.success_count
        n = n_a + n_b
        delta = mean_b - self.duration_mean_ns
        self.duration_mean_ns += delta * n_b / n
        self.duration_m2 += m2_b + delta * delta * n_a * n_b / n
        self.duration_sum_ns += sum_b

    def _add_span(self, starts: np.ndarray, ends: np.ndarray, offset: int) -> None:
        self.first_start_ns = _pick(min, self.first_start_ns, int(starts.min()) + offset)
        self.last_end_ns = _pick(max, self.last_end_ns, int(ends.max()) + offset)

    def _add_memory(self, before: np.ndarray | None, after: np.ndarray | None) -> None:
        if before is None or after is None or not len(before):
            return
        if before.strides == (0,) and before[0] < 0:  # a broadcast column: all unknown
            return
        known = (before >= 0) & (after >= 0)
        deltas = (after - before)[known]
        if not len(deltas):
            return
        self.memory_count += len(deltas)
        self.memory_sum += int(deltas.sum())
        self.memory_min = _pick(min, self.memory_min, int(deltas.min()))
        self.memory_max = _pick(max, self.memory_max, int(deltas.max()))

    # -- combining ---------------------------------------------------------
    def merge(self, other: OperationStats) -> None:
        """Fold ``other`` into this one: exact for everything but sketched percentiles."""
        if other.success_count:
            self._combine_moments(
                other.success_count,
                other.duration_sum_ns,
                other.duration_mean_ns,
                other.duration_m2,
            )
        self.call_count += other.call_count
        self.success_count += other.success_count
        self.error_count += other.error_count
        for name, count in other.errors_by_type.items():
            self.errors_by_type[name] = self.errors_by_type.get(name, 0) + count
        self.duration_min_ns = _pick(min, self.duration_min_ns, other.duration_min_ns)
        self.duration_max_ns = _pick(max, self.duration_max_ns, other.duration_max_ns)
        self.distribution.merge(other.distribution)
        self.memory_count += other.memory_count
        self.memory_sum += other.memory_sum
        self.memory_min = _pick(min, self.memory_min, other.memory_min)
        self.memory_max = _pick(max, self.memory_max, other.memory_max)
        self.first_start_ns = _pick(min, self.first_start_ns, other.first_start_ns)
        self.last_end_ns = _pick(max, self.last_end_ns, other.last_end_ns)
        self.cpu_count += other.cpu_count
        self.cpu_sum_ns += other.cpu_sum_ns
        self.cpu_wall_sum_ns += other.cpu_wall_sum_ns
        self.gc_sum_ns += other.gc_sum_ns
        self.gc_call_count += other.gc_call_count
        self.gc_known_count += other.gc_known_count
        if other.first_success_start_ns is not None and (
            self.first_success_start_ns is None
            or other.first_success_start_ns < self.first_success_start_ns
        ):
            self.first_success_start_ns = other.first_success_start_ns
            self.first_duration_ns = other.first_duration_ns

    def copy(self) -> OperationStats:
        """An independent copy (cheap: plain fields, one list or dict for the distribution)."""
        clone = OperationStats.__new__(OperationStats)
        for slot in self.__slots__:
            setattr(clone, slot, getattr(self, slot))
        clone.errors_by_type = dict(self.errors_by_type)
        clone.distribution = self.distribution.copy()
        return clone

    # -- reading -----------------------------------------------------------
    def summary(self) -> OperationSummary:
        """The typed summary behind ``get_statistics`` (see the module doc)."""
        n = self.success_count
        fractions = [f for _, f in PERCENTILES]
        if n >= WARMUP_MIN_CALLS:  # the others' median if the first call is a warm-up call
            fractions.append((n - 2) / (2 * (n - 1)))
        quantiles = self.distribution.quantiles_ns(fractions) if n else [0.0] * len(fractions)
        rest_ns = quantiles[-1] if n >= WARMUP_MIN_CALLS else None
        quantiles = quantiles[: len(PERCENTILES)]
        std_ns = math.sqrt(max(self.duration_m2, 0.0) / (n - 1)) if n >= 2 else 0.0
        span_ns = (
            self.last_end_ns - self.first_start_ns
            if self.first_start_ns is not None and self.last_end_ns is not None
            else 0
        )
        calls_per_second = (
            self.call_count * _NS_PER_S / span_ns if self.call_count >= 2 and span_ns > 0 else 0.0
        )
        values: dict[str, Any] = {
            "call_count": self.call_count,
            "success_count": self.success_count,
            "error_count": self.error_count,
            "success_rate": 100.0 * self.success_count / self.call_count
            if self.call_count
            else 0.0,
            "total_duration_ms": self.duration_sum_ns / _NS_PER_MS,
            "avg_duration_ms": (self.duration_sum_ns / n if n else 0.0) / _NS_PER_MS,
            "min_duration_ms": (self.duration_min_ns or 0) / _NS_PER_MS,
            "max_duration_ms": (self.duration_max_ns or 0) / _NS_PER_MS,
        }
        for (key, _), value in zip(PERCENTILES, quantiles, strict=True):
            values[key] = value / _NS_PER_MS
        steady_ns, warmup_calls = self._steady_median_ns(quantiles[0], rest_ns)
        cpu_ms = self.cpu_sum_ns / self.cpu_count / _NS_PER_MS if self.cpu_count else None
        wall_ms = self.cpu_wall_sum_ns / self.cpu_count / _NS_PER_MS if self.cpu_count else None
        values.update(
            {
                "std_duration_ms": std_ns / _NS_PER_MS,
                "avg_memory_delta": self.memory_sum / self.memory_count
                if self.memory_count
                else 0.0,
                "total_memory_impact": self.memory_sum,
                "max_memory_delta": self.memory_max if self.memory_max is not None else 0,
                "memory_call_count": self.memory_count,
                "calls_per_second": calls_per_second,
                "first_call": None
                if self.first_start_ns is None
                else self.first_start_ns / _NS_PER_S,
                "last_call": None if self.last_end_ns is None else self.last_end_ns / _NS_PER_S,
                "errors_by_type": dict(self.errors_by_type),
                "percentiles_exact": self.distribution.is_exact,
                "avg_cpu_ms": cpu_ms,
                "cpu_share": None
                if not self.cpu_wall_sum_ns
                else 100.0 * self.cpu_sum_ns / self.cpu_wall_sum_ns,
                "avg_waiting_ms": None
                if cpu_ms is None or wall_ms is None
                else max(wall_ms - cpu_ms, 0.0),
                "gc_pause_ms": self.gc_sum_ns / _NS_PER_MS if self.gc_known_count else None,
                "calls_with_gc": self.gc_call_count if self.gc_known_count else None,
                "first_call_ms": None
                if self.first_duration_ns is None
                else self.first_duration_ns / _NS_PER_MS,
                "warmup_calls": warmup_calls,
                "steady_median_ms": None if steady_ns is None else steady_ns / _NS_PER_MS,
            }
        )
        return OperationSummary(values)

    def _steady_median_ns(
        self, median_ns: float, rest_ns: float | None
    ) -> tuple[float | None, int]:
        """``(median without the warm-up call, warm-up calls)``: the first successful call
        is a warm-up call when it took more than :data:`WARMUP_FACTOR` times the median of
        the others, with at least :data:`WARMUP_MIN_CALLS` successful calls."""
        n, first = self.success_count, self.first_duration_ns
        if not n:
            return None, 0
        if rest_ns is None or first is None or first <= median_ns:
            return median_ns, 0  # at or below the median: no other median is a fifth of it
        # Were the first call above the others' median, the others' median would be the
        # type-7 quantile of all calls at rank (n - 2) / 2: below it, removing one value
        # from the top leaves every order statistic it reads in place. When the first
        # call is not above it, it cannot be 5x the others' median either.
        if first > WARMUP_FACTOR * rest_ns:
            return rest_ns, 1
        return median_ns, 0

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild these aggregates, as JSON-ready data."""
        data: dict[str, Any] = {slot: getattr(self, slot) for slot in self.__slots__}
        data["errors_by_type"] = dict(self.errors_by_type)
        data["distribution"] = self.distribution.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OperationStats:
        """Rebuild aggregates from :meth:`to_dict`; fields added after the first schema
        (CPU, GC, first call) may be missing and then start empty."""
        stats = cls()
        for slot in cls.__slots__:
            if slot == "distribution":
                stats.distribution = DurationDistribution.from_dict(data["distribution"])
            elif slot == "errors_by_type":
                stats.errors_by_type = {str(k): int(v) for k, v in data[slot].items()}
            elif slot in OPTIONAL_FIELDS and slot not in data:
                continue
            else:
                setattr(stats, slot, data[slot])
        return stats


#: Aggregates added after schema 1's first files: absent from older files.
OPTIONAL_FIELDS = frozenset(
    {
        "cpu_count",
        "cpu_sum_ns",
        "cpu_wall_sum_ns",
        "gc_sum_ns",
        "gc_call_count",
        "gc_known_count",
        "first_success_start_ns",
        "first_duration_ns",
    }
)

#: The metrics views offer by short name (widget, plots, alerts), and the summary key of each.
METRIC_ALIASES: dict[str, str] = {
    "mean": "avg_duration_ms",
    "median": "median_duration_ms",
    "p90": "p90_duration_ms",
    "p95": "p95_duration_ms",
    "p99": "p99_duration_ms",
    "min": "min_duration_ms",
    "max": "max_duration_ms",
    "std": "std_duration_ms",
    "total": "total_duration_ms",
    "calls": "call_count",
    "errors": "error_count",
    "calls_per_second": "calls_per_second",
    "memory": "avg_memory_delta",
    "success_rate": "success_rate",
    "cpu_share": "cpu_share",
}

#: Summary keys whose value is a duration statistic of the successful calls.
DURATION_KEYS = frozenset(
    {
        "total_duration_ms",
        "avg_duration_ms",
        "min_duration_ms",
        "max_duration_ms",
        "std_duration_ms",
        *(key for key, _ in PERCENTILES),
    }
)


class OperationSummary(Mapping[str, Any]):
    """The statistics of one operation at one moment, computed once.

    Attributes carry the same names as the keys of ``get_statistics`` (see the
    README for each definition); :meth:`as_dict` is that dict, :meth:`metric`
    reads one number by key or by a view's short name (``"mean"``, ``"p95"``).

    >>> import numpy as np
    >>> stats = OperationStats()
    >>> stats.add_successes(np.array([0, 10_000_000]), np.array([2_000_000, 14_000_000]))
    >>> summary = stats.summary()
    >>> summary.call_count, summary.metric("mean"), summary.has_durations
    (2, 3.0, True)
    """

    __slots__ = ("_values",)
    _values: dict[str, Any]

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("an OperationSummary is read-only")

    def __reduce__(self) -> tuple[Any, ...]:
        return (OperationSummary, (self._values,))

    @property
    def has_durations(self) -> bool:
        """Whether any call succeeded, so that duration statistics mean something."""
        return bool(self._values["success_count"])

    def metric(self, name: str) -> float | None:
        """One statistic by key (``"p95_duration_ms"``) or short name (``"p95"``).

        ``None`` when the operation has no figure for it (durations without a
        successful call, CPU share without CPU measurements).
        """
        key = METRIC_ALIASES.get(name, name)
        if key not in self._values or key == "errors_by_type":
            choices = sorted(
                set(METRIC_ALIASES) | {k for k in self._values if k != "errors_by_type"}
            )
            raise ValueError(f"unknown metric {name!r}; choose one of {', '.join(choices)}")
        if key in DURATION_KEYS and not self.has_durations:
            return None
        value = self._values[key]
        return None if value is None else float(value)

    def as_dict(self) -> dict[str, Any]:
        """The ``get_statistics`` dict (a fresh copy)."""
        return dict(self._values, errors_by_type=dict(self._values["errors_by_type"]))

    # A read-only mapping of the same keys, so ``summary["p95_duration_ms"]`` works too.
    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"OperationSummary(calls={self.call_count}, mean={self.avg_duration_ms:.6g} ms)"


def _pick(choose: Any, a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return int(choose(a, b))
