"""Comparisons that say whether a difference in speed is real.

:func:`compare` puts a baseline (a saved session, a snapshot or a profiler)
beside the current run; :func:`compare_operations` puts two operations of one
profiler side by side. Both compute a pandas DataFrame with one row per
operation; :mod:`wdbx_notebook.report.comparison` renders it as markdown.

>>> from wdbx_notebook import PerformanceProfiler
>>> from wdbx_notebook._clock import FakeClock
>>> clock = FakeClock()
>>> profiler = PerformanceProfiler(track_memory=False, clock=clock)
>>> for i in range(200):
...     with profiler.profile_block("old"):
...         clock.advance_ns(1_000_000 + i % 7 * 10_000)
...     with profiler.profile_block("new"):
...         clock.advance_ns(1_200_000 + i % 7 * 10_000)
>>> row = compare_operations(profiler, "old", "new").iloc[0]
>>> row["verdict"], row["change"]
('slower', '1.19x slower')

How each row is computed (from the most recent successful calls each side
keeps, up to its ``history_limit``):

* ``ratio`` is the current median over the baseline median; ``ci_low`` and
  ``ci_high`` are a percentile-bootstrap 95% confidence interval of that
  ratio (:data:`DEFAULT_RESAMPLES` resamples per side, fixed seed, so the same
  data always gives the same interval). Each resample's median is drawn
  exactly from its order-statistic distribution (a Beta draw per resample
  instead of resampling n values), which is the same bootstrap at O(1) cost
  per resample.
* ``p_value`` is the two-sided Mann-Whitney U test (normal approximation with
  tie correction and continuity correction): it does not assume normal
  timings and handles unequal sample sizes.
* ``verdict`` is ``"slower"`` or ``"faster"`` only when the interval excludes
  1, the p-value is below :data:`P_VALUE_LIMIT` and the ratio is beyond
  ``1 ± threshold``; ``"same"`` when the whole interval lies within
  ``1 ± threshold``; otherwise ``"inconclusive: need more calls"``, with
  ``calls_needed`` estimating how many successful calls per side would likely
  settle it (the interval narrows as 1/sqrt(calls)). With fewer than
  :data:`MIN_CALLS` successful calls on either side the verdict is always
  inconclusive.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from .profiler import PerformanceProfiler
    from .snapshot import Snapshot

#: Resamples per side for the bootstrap interval of the ratio of medians.
DEFAULT_RESAMPLES = 10_000

#: The smallest number of resamples accepted (fewer gives ragged interval ends).
MIN_RESAMPLES = 2_000

#: The most resamples accepted: each costs a few float64 per side, so this bounds a
#: comparison's memory to tens of MB (10**9 would need about 30 GB).
MAX_RESAMPLES = 1_000_000

#: The seed of the bootstrap, fixed so a comparison is reproducible.
DEFAULT_SEED = 20_240_601

#: A "slower"/"faster" verdict needs a Mann-Whitney p-value below this.
P_VALUE_LIMIT = 0.01

#: Fewer successful calls than this on either side: no test can be trusted.
MIN_CALLS = 6

#: The most calls per side an estimate will name; beyond it, "more than".
MAX_CALLS_ESTIMATE = 10_000_000

VERDICTS = ("slower", "faster", "same", "inconclusive: need more calls")
INCONCLUSIVE = VERDICTS[3]
ONLY_BASELINE = "only in baseline"
ONLY_CURRENT = "only in current"

COLUMNS = (
    "baseline_calls",
    "current_calls",
    "baseline_median_ms",
    "current_median_ms",
    "baseline_p95_ms",
    "current_p95_ms",
    "ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "verdict",
    "calls_needed",
    "change",
    "baseline_memory_delta",
    "current_memory_delta",
    "memory_change",
    "baseline_success_rate",
    "current_success_rate",
    "success_rate_change",
)


# -- statistics ------------------------------------------------------------------
def mann_whitney_u(x: Any, y: Any) -> tuple[float, float]:
    """Two-sided Mann-Whitney U test: ``(U of x, p-value)``.

    Normal approximation with tie correction and continuity correction, the
    same as ``scipy.stats.mannwhitneyu(x, y, method="asymptotic")``. When every
    value is equal there is no evidence of a difference and the p-value is 1.

    >>> u, p = mann_whitney_u([1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14])
    >>> u, round(p, 4)
    (0.0, 0.0022)
    """
    import numpy as np

    a = np.asarray(x, dtype=np.float64).ravel()
    b = np.asarray(y, dtype=np.float64).ravel()
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        raise ValueError(f"mann_whitney_u() needs values on both sides, got {n1} and {n2}")
    combined = np.concatenate([a, b])
    n = n1 + n2
    # Average ranks: a value shared by t entries gets the mean of their t ranks.
    _, inverse, counts = np.unique(combined, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average_rank = ends - (counts - 1) / 2.0
    ranks = average_rank[inverse]
    u1 = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2.0)
    u2 = n1 * n2 - u1
    mean = n1 * n2 / 2.0
    tie_term = (
        float((counts.astype(np.float64) ** 3 - counts).sum()) / (n * (n - 1)) if n > 1 else 0
    )
    variance = n1 * n2 / 12.0 * ((n + 1) - tie_term)
    if variance <= 0:
        return u1, 1.0
    z = (max(u1, u2) - mean - 0.5) / math.sqrt(variance)
    p = math.erfc(z / math.sqrt(2.0))  # two-sided: 2 * (1 - Phi(z))
    return u1, min(1.0, max(0.0, p))


def bootstrap_medians(sorted_values: Any, resamples: int, rng: Any) -> np.ndarray:
    """Medians of ``resamples`` bootstrap resamples of sorted values, vectorised.

    A resample's k-th smallest value is ``sorted_values[floor(U * n)]`` with
    ``U`` the k-th smallest of n uniforms, which is Beta(k, n - k + 1); for an
    even n the next order statistic follows from the first (the minimum of the
    n - k uniforms above it). So each resample costs two Beta draws, not n.
    """
    import numpy as np

    values = np.asarray(sorted_values, dtype=np.float64)
    n = len(values)
    if n == 0:
        raise ValueError("bootstrap_medians() needs at least one value")

    def at(u: np.ndarray) -> np.ndarray:
        return values[np.minimum((u * n).astype(np.int64), n - 1)]

    k = (n + 1) // 2
    u_k = rng.beta(k, n - k + 1, size=resamples)
    if n % 2:
        return at(u_k)
    u_next = u_k + (1.0 - u_k) * rng.beta(1, n - k, size=resamples)
    return (at(u_k) + at(u_next)) / 2.0


def _percentile(sorted_ns: np.ndarray, q: float) -> float:
    import numpy as np

    return float(np.percentile(sorted_ns, q)) if len(sorted_ns) else math.nan


def _calls_needed(
    ratio: float, ci_low: float, ci_high: float, calls: int, threshold: float
) -> int | None:
    """Successful calls per side that would likely settle an open verdict.

    Assumes the observed ratio is the true one. The interval's half-width on
    the log scale gives the standard error, which shrinks as 1/sqrt(calls);
    the estimate is the calls at which the distance that matters is
    :data:`_SETTLE_Z` standard errors: beyond 1 when the ratio is past the
    threshold (a "slower"/"faster" verdict at p < 0.01 with 80% power), or
    inside ``1 ± threshold`` when it is not (a "same" verdict, 80% power).
    """
    if not (ratio > 0 and ci_low > 0 and ci_high > 0) or calls < 2:
        return None
    standard_error = (math.log(ci_high) - math.log(ci_low)) / (2 * 1.96)
    if standard_error <= 0:
        return None
    if ratio >= 1 + threshold or ratio <= 1 - threshold:
        distance = abs(math.log(ratio))
        z = _SETTLE_Z
    else:
        distance = min(
            math.log(1 + threshold) - math.log(ratio), math.log(ratio) - math.log(1 - threshold)
        )
        z = 1.96 + _POWER_Z
    if distance <= 0:
        return MAX_CALLS_ESTIMATE
    needed = calls * (z * standard_error / distance) ** 2
    return int(min(MAX_CALLS_ESTIMATE, max(MIN_CALLS, math.ceil(needed))))


#: z of 80% power, and of a p < 0.01 two-sided test plus that power.
_POWER_Z = 0.8416
_SETTLE_Z = 2.5758 + _POWER_Z


def _change_words(ratio: float, low: float, high: float, threshold: float) -> str:
    """The change in words: "same" when the ratio reads 1.00x, or when the interval
    spans 1 and the ratio is within the threshold; else "1.16x slower" or "1.10x faster"."""
    if not ratio > 0 or math.isinf(ratio):
        return ""
    if round(ratio, 2) == 1.0 or round(1 / ratio, 2) == 1.0:
        return "same"
    if low <= 1 <= high and 1 - threshold <= ratio <= 1 + threshold:
        return "same"
    if ratio >= 1:
        return f"{ratio:.2f}x slower"
    return f"{1 / ratio:.2f}x faster"


def compare_samples(
    baseline_ns: Any,
    current_ns: Any,
    threshold: float = 0.05,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Compare two samples of durations (nanoseconds or any common unit).

    Returns a dict with ``ratio`` (current median / baseline median),
    ``ci_low``, ``ci_high``, ``p_value``, ``verdict`` and ``calls_needed``
    (``None`` unless inconclusive); see the module doc for the rules.

    >>> result = compare_samples([10, 11, 12, 10, 11, 12, 11], [10, 11, 12])
    >>> result["verdict"]
    'inconclusive: need more calls'
    """
    import numpy as np

    _check_options(threshold, resamples, confidence)
    base = np.sort(np.asarray(baseline_ns, dtype=np.float64).ravel())
    cur = np.sort(np.asarray(current_ns, dtype=np.float64).ravel())
    n1, n2 = len(base), len(cur)
    result: dict[str, Any] = {
        "ratio": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "p_value": math.nan,
        "verdict": INCONCLUSIVE,
        "calls_needed": MIN_CALLS,
    }
    if n1 == 0 or n2 == 0:
        return result
    base_median = float(np.median(base))
    cur_median = float(np.median(cur))
    if base_median > 0:
        result["ratio"] = cur_median / base_median
    result["p_value"] = mann_whitney_u(base, cur)[1]
    rng = np.random.default_rng(seed)
    base_boot = bootstrap_medians(base, resamples, rng)
    cur_boot = bootstrap_medians(cur, resamples, rng)
    if base_median > 0 and (base_boot > 0).all():
        tail = (1 - confidence) / 2 * 100
        low, high = np.percentile(cur_boot / base_boot, [tail, 100 - tail])
        result["ci_low"], result["ci_high"] = float(low), float(high)
    ratio, low, high, p = result["ratio"], result["ci_low"], result["ci_high"], result["p_value"]
    smaller = min(n1, n2)
    if smaller < MIN_CALLS or math.isnan(low):
        estimate = _calls_needed(ratio, low, high, smaller, threshold)
        result["calls_needed"] = max(MIN_CALLS, estimate or MIN_CALLS)
        return result
    excludes_one = low > 1 or high < 1
    if n1 == n2 and bool((base == cur).all()):
        verdict = "same"  # identical data: nothing changed, whatever the interval's width
    elif excludes_one and p < P_VALUE_LIMIT and ratio >= 1 + threshold and low > 1:
        verdict = "slower"
    elif excludes_one and p < P_VALUE_LIMIT and ratio <= 1 - threshold and high < 1:
        verdict = "faster"
    elif low >= 1 - threshold and high <= 1 + threshold:
        verdict = "same"
    else:
        verdict = INCONCLUSIVE
    result["verdict"] = verdict
    result["calls_needed"] = (
        _calls_needed(ratio, low, high, smaller, threshold) if verdict == INCONCLUSIVE else None
    )
    return result


def _check_options(threshold: object, resamples: object, confidence: object) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise TypeError(f"threshold must be a fraction such as 0.05 (5%), got {threshold!r}")
    if not 0 < threshold < 1:
        raise ValueError(
            f"threshold must be a fraction between 0 and 1 such as 0.05, got {threshold!r}"
        )
    if (
        isinstance(resamples, bool)
        or not isinstance(resamples, int)
        or not MIN_RESAMPLES <= resamples <= MAX_RESAMPLES
    ):
        raise ValueError(
            f"resamples must be an int from {MIN_RESAMPLES:,} to {MAX_RESAMPLES:,} (each "
            f"resample holds memory on both sides; the default is {DEFAULT_RESAMPLES:,}), "
            f"got {resamples!r}"
        )
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, float)
        or not 0.5 <= confidence < 1
    ):
        raise ValueError(f"confidence must be a float in [0.5, 1) such as 0.95, got {confidence!r}")


# -- sources -----------------------------------------------------------------------
def held_calls(baseline: Snapshot, name: str) -> set[tuple[int, int]]:
    """``(start_ns, end_ns)`` of each call of ``name`` the baseline holds (reusable:
    a snapshot never changes)."""
    if name not in baseline:
        return set()
    calls = baseline.calls(name)
    return set(zip(calls.start_ns.tolist(), calls.end_ns.tolist(), strict=True))


def calls_since_baseline(
    baseline: Snapshot,
    current: Snapshot,
    name: str,
    held: set[tuple[int, int]] | None = None,
) -> tuple[Any, bool]:
    """The calls of ``name`` the current side should be judged on, and whether it was cut.

    When the current side holds some of the baseline's own calls (the same start
    and end to the nanosecond: a baseline taken earlier in the same session) and
    calls the baseline does not hold, the current side is the calls recorded
    after the baseline was taken: those it does not hold, except calls older than
    the baseline's oldest kept call (trimmed from its history, so also from before
    it). Otherwise (another run, or no new calls) every current call counts.
    Returns ``(CallColumns, cut)``; ``held`` is :func:`held_calls` of the
    baseline, when the caller keeps it.
    """
    import numpy as np

    calls = current.calls(name)
    if name not in baseline or not len(calls):
        return calls, False
    base = baseline.calls(name)
    if not len(base):
        return calls, False
    if held is None:
        held = held_calls(baseline, name)
    shared = np.fromiter(
        (pair in held for pair in zip(calls.start_ns.tolist(), calls.end_ns.tolist(), strict=True)),
        dtype=bool,
        count=len(calls),
    )
    if not shared.any() or shared.all():
        return calls, False
    taken_ns = int(baseline.saved_at * 1e9)
    newer = (calls.start_ns >= base.start_ns.min()) | (calls.end_ns > taken_ns)
    return calls.take(~shared & newer), True


def _figures_of_calls(calls: Any) -> dict[str, Any]:
    """The figures a comparison row reads from aggregates, computed from calls."""
    import numpy as np

    deltas = calls.memory_delta()
    known = deltas[~np.isnan(deltas)]
    return {
        "avg_memory_delta": float(known.mean()) if len(known) else 0.0,
        "memory_call_count": len(known),
        "success_rate": 100.0 * float(calls.success.mean()) if len(calls) else 0.0,
    }


def successful_durations_ns(source: Any, name: str) -> np.ndarray:
    """Durations (ns) of the recent successful calls of ``name``, oldest first.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler(track_memory=False)
    >>> with profiler.profile_block("x"):
    ...     pass
    >>> len(successful_durations_ns(profiler, "x"))
    1
    """
    import numpy as np

    return np.asarray(source.recent_durations_ns(name), dtype=np.int64)


def _row(
    base_ns: np.ndarray,
    cur_ns: np.ndarray,
    base_stats: dict[str, Any] | None,
    cur_stats: dict[str, Any] | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """One operation's comparison; ``options`` are :func:`compare_samples`' keywords."""
    import numpy as np

    base_sorted = np.sort(base_ns)
    cur_sorted = np.sort(cur_ns)
    row: dict[str, Any] = {
        "baseline_calls": len(base_sorted),
        "current_calls": len(cur_sorted),
        "baseline_median_ms": _percentile(base_sorted, 50) / 1e6,
        "current_median_ms": _percentile(cur_sorted, 50) / 1e6,
        "baseline_p95_ms": _percentile(base_sorted, 95) / 1e6,
        "current_p95_ms": _percentile(cur_sorted, 95) / 1e6,
    }
    if base_stats is None or cur_stats is None:
        row.update(ratio=math.nan, ci_low=math.nan, ci_high=math.nan, p_value=math.nan)
        row["verdict"] = ONLY_CURRENT if base_stats is None else ONLY_BASELINE
        row["calls_needed"] = None
        row["change"] = "new" if base_stats is None else "gone"
    else:
        result = compare_samples(base_sorted, cur_sorted, **options)
        row.update(result)
        row["change"] = _change_words(
            result["ratio"], result["ci_low"], result["ci_high"], options["threshold"]
        )
    row.update(_side_figures(base_stats, "baseline"))
    row.update(_side_figures(cur_stats, "current"))
    row["memory_change"] = row["current_memory_delta"] - row["baseline_memory_delta"]
    row["success_rate_change"] = row["current_success_rate"] - row["baseline_success_rate"]
    return row


def _side_figures(stats: dict[str, Any] | None, side: str) -> dict[str, float]:
    if stats is None:
        return {f"{side}_memory_delta": math.nan, f"{side}_success_rate": math.nan}
    memory = float(stats["avg_memory_delta"]) if stats.get("memory_call_count") else math.nan
    return {f"{side}_memory_delta": memory, f"{side}_success_rate": float(stats["success_rate"])}


def _frame(rows: dict[str, dict[str, Any]], attrs: dict[str, Any]) -> Any:
    import pandas as pd

    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS))
    frame.index = pd.Index(list(rows), name="operation", dtype=object)
    for column in ("baseline_calls", "current_calls"):
        frame[column] = frame[column].astype("int64")
    frame["calls_needed"] = pd.array(
        [
            None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
            for v in frame["calls_needed"]
        ],
        dtype="Int64",
    )
    for column in COLUMNS:
        if column not in ("verdict", "change", "calls_needed", "baseline_calls", "current_calls"):
            frame[column] = frame[column].astype("float64")
    frame["verdict"] = frame["verdict"].astype(object)
    frame["change"] = frame["change"].astype(object)
    frame.attrs.update(attrs)
    return frame


def compare(
    baseline: Snapshot | PerformanceProfiler | str | os.PathLike[str],
    current: Snapshot | PerformanceProfiler | str | os.PathLike[str] | None = None,
    threshold: float = 0.05,
    *,
    operations: list[str] | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> Any:
    """Compare every operation of a baseline run with the current one.

    Args:
        baseline: a saved session (path or :class:`~wdbx_notebook.Snapshot`)
            or a profiler.
        current: the run to judge; the shared live profiler when omitted.
        threshold: the smallest relative change that matters (0.05 = 5%).
        operations: only these names (default: every operation of either side;
            one present on one side only gets the verdict ``"only in baseline"``
            or ``"only in current"``).
        resamples: bootstrap resamples per side (at least 2,000).
        seed: the bootstrap's seed (fixed by default: same data, same interval).
        confidence: the confidence level of the interval.

    Returns:
        A pandas DataFrame indexed by ``operation`` with the columns of
        :data:`COLUMNS`: call counts compared, medians and p95 in ms, ``ratio``
        with ``ci_low``/``ci_high``, ``p_value``, ``verdict``,
        ``calls_needed`` (nullable int), ``change`` ("1.16x slower"), average
        memory delta per call in bytes on each side and ``memory_change``,
        success rates in percent and ``success_rate_change`` in points.
        ``frame.attrs`` records ``threshold``, ``resamples``, ``seed``,
        ``confidence`` and ``since_baseline``: the operations whose current
        side holds the baseline's own calls (a baseline taken earlier in the
        same session), for which only the calls recorded after the baseline
        are compared (see :func:`calls_since_baseline`).

    >>> from wdbx_notebook import PerformanceProfiler
    >>> before = PerformanceProfiler().snapshot()
    >>> compare(before, PerformanceProfiler()).empty
    True
    """
    from .persistence import as_session
    from .snapshot import as_snapshot

    _check_options(threshold, resamples, confidence)
    options = {
        "threshold": threshold,
        "resamples": resamples,
        "seed": seed,
        "confidence": confidence,
    }
    base = as_session(baseline, "compare() baseline")
    # The shared profiler when omitted.
    cur = as_snapshot(None) if current is None else as_session(current, "compare() current")
    base_names = base.get_all_operations()
    cur_names = cur.get_all_operations()
    if operations is None:
        names = list(base_names) + [n for n in cur_names if n not in set(base_names)]
    elif isinstance(operations, str):
        raise TypeError(f"operations must be a list of names, got the str {operations!r}")
    else:
        names = list(operations)
        unknown = [n for n in names if n not in base_names and n not in cur_names]
        if unknown:
            raise KeyError(f"no operation named {unknown[0]!r} on either side of the comparison")
    rows: dict[str, dict[str, Any]] = {}
    since_baseline = []
    for name in names:
        in_base, in_cur = name in base_names, name in cur_names
        base_ns = successful_durations_ns(base, name) if in_base else _empty()
        cur_stats: dict[str, Any] | None = cur.get_statistics(name) if in_cur else None
        cur_ns = _empty()
        if in_cur:
            calls, cut = calls_since_baseline(base, cur, name) if in_base else (None, False)
            if cut and calls is not None:
                # A baseline taken earlier in this session: judge only the calls after it.
                since_baseline.append(name)
                cur_ns = calls.duration_ns[calls.success]
                cur_stats = _figures_of_calls(calls)
            else:
                cur_ns = successful_durations_ns(cur, name)
        base_stats = base.get_statistics(name) if in_base else None
        rows[name] = _row(base_ns, cur_ns, base_stats, cur_stats, options)
    attrs = {**options, "since_baseline": since_baseline}
    return _frame(rows, attrs)


def _empty() -> np.ndarray:
    import numpy as np

    return np.zeros(0, dtype=np.int64)


def compare_operations(
    profiler: PerformanceProfiler | Snapshot,
    a: str,
    b: str,
    threshold: float = 0.05,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> Any:
    """Compare operation ``b`` with operation ``a`` (the baseline) of one profiler.

    One row, labelled ``"b vs a"``, with the columns of :func:`compare`: a
    ratio of 1.2 with verdict "slower" means ``b`` takes 1.2 times as long.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler(track_memory=False)
    >>> for _ in range(3):
    ...     with profiler.profile_block("a"): pass
    ...     with profiler.profile_block("b"): pass
    >>> compare_operations(profiler, "a", "b")["verdict"].iloc[0]
    'inconclusive: need more calls'
    """
    from .snapshot import as_snapshot

    _check_options(threshold, resamples, confidence)
    options = {
        "threshold": threshold,
        "resamples": resamples,
        "seed": seed,
        "confidence": confidence,
    }
    snap = as_snapshot(profiler)  # one consistent cut for both operations
    base_stats = snap.get_statistics(a)  # unknown names raise here, suggesting close ones
    cur_stats = snap.get_statistics(b)
    durations = successful_durations_ns(snap, a), successful_durations_ns(snap, b)
    row = _row(*durations, base_stats, cur_stats, options)
    attrs = {**options, "baseline_operation": a, "current_operation": b}
    return _frame({f"{b} vs {a}": row}, attrs)


# -- rendering (in report/) ---------------------------------------------------------------
def comparison_markdown(frame: Any, title: str = "Performance comparison") -> str:
    """The comparison DataFrame as a markdown table with a legend; rendered by
    :func:`wdbx_notebook.report.comparison.comparison_markdown` (this name stays for imports).

    >>> from wdbx_notebook import PerformanceProfiler
    >>> comparison_markdown(compare(PerformanceProfiler(), PerformanceProfiler())).splitlines()
    ['## Performance comparison', '', 'No operations to compare.']
    """
    from .report.comparison import comparison_markdown as render

    return render(frame, title)
