"""Trends within a session: rolling statistics and step-up detection (no drawing).

* :func:`rolling_statistics` (and ``history_dataframe(..., rolling=WINDOW)``)
  give a rolling mean and rolling p95 over each operation's successful calls.
* :func:`wdbx_notebook.plots.plot_trend` draws them with the calls and marks a
  detected step.
* :func:`detect_step_up` finds a sustained step up in an operation's
  durations (say, a cache that stopped hitting half-way through a session)
  and says at which call and time it began; reports build a recommendation
  from it (:mod:`wdbx_notebook.report.recommend`).

>>> from wdbx_notebook import PerformanceProfiler
>>> from wdbx_notebook._clock import FakeClock
>>> clock = FakeClock()
>>> profiler = PerformanceProfiler(track_memory=False, clock=clock)
>>> for i in range(400):
...     with profiler.profile_block("lookup"):
...         clock.advance_ns((1_000_000 if i < 300 else 1_500_000) + i % 7 * 1_000)
>>> step = detect_step_up(profiler, "lookup")
>>> step.index, round(step.ratio, 2)
(300, 1.5)

The detector (a rank CUSUM, one binary-segmentation split):

1. Rank all kept durations (ties share their average rank). For every split
   ``k`` that leaves at least :data:`MIN_SEGMENT` calls (and 5%) on each side,
   the standardised rank sum of the calls after ``k`` (the Mann-Whitney
   statistic, tie-corrected) says how much later calls outrank earlier ones;
   the split with the largest is the candidate. Ranks make it indifferent to
   the long right tail timings have.
2. The step must matter and last: the median after it is at least
   ``1 + min_increase`` times the median before, in both halves of the after
   segment (a spike that recovers is not a step).
3. It must be significant at ``alpha`` (default 0.001) *allowing for having
   picked the best of many splits*: decided at once when even a single split
   could not be significant, or when a Bonferroni bound over all splits
   already is; otherwise by a permutation test of the maximum
   (:data:`PERMUTATIONS` shuffles, fixed seed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: The fewest calls on each side of a step.
MIN_SEGMENT = 20

#: Significance level of the step test.
DEFAULT_ALPHA = 0.001

#: The smallest rise of the median that counts as a step (10%).
DEFAULT_MIN_INCREASE = 0.10

#: Shuffles of the permutation test (used only for borderline cases).
PERMUTATIONS = 999

#: Seed of the permutation test, fixed so the same history gives the same answer.
SEED = 20_240_601

ROLLING_COLUMNS = ("rolling_mean_ms", "rolling_p95_ms")


# -- rolling statistics ------------------------------------------------------------
def _check_window(window: object) -> int:
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window (rolling=) must be a positive int of calls, got {window!r}")
    return window


def rolling_statistics(durations_ms: Any, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Rolling mean and rolling p95 (type 7, like ``np.percentile``) over ``window`` calls.

    The first ``window - 1`` positions are NaN: a statistic over fewer calls
    than asked would not be comparable with the rest.

    >>> mean, p95 = rolling_statistics([1.0, 2.0, 3.0, 4.0], window=2)
    >>> mean.tolist(), p95.tolist()
    ([nan, 1.5, 2.5, 3.5], [nan, 1.95, 2.95, 3.95])
    """
    import numpy as np

    window = _check_window(window)
    values = np.asarray(durations_ms, dtype=np.float64)
    n = len(values)
    mean = np.full(n, np.nan)
    p95 = np.full(n, np.nan)
    if n >= window:
        views = np.lib.stride_tricks.sliding_window_view(values, window)
        cumulative = np.concatenate([[0.0], np.cumsum(values)])
        mean[window - 1 :] = (cumulative[window:] - cumulative[:-window]) / window
        # In blocks, so a 10,000-call history with a wide window stays small in memory.
        block = max(1, 2_000_000 // window)
        for start in range(0, len(views), block):
            chunk = views[start : start + block]
            p95[window - 1 + start : window - 1 + start + len(chunk)] = np.percentile(
                chunk, 95, axis=1
            )
    return mean, p95


def add_rolling_columns(frame: Any, window: int) -> Any:
    """Add ``rolling_mean_ms`` and ``rolling_p95_ms`` to a history DataFrame.

    Computed per operation over its successful calls in call order; failed
    calls get NaN (statistics of durations cover successful calls only).
    This is what ``history_dataframe(..., rolling=window)`` calls.
    """
    import numpy as np

    window = _check_window(window)
    frame = frame.copy()
    mean = np.full(len(frame), np.nan)
    p95 = np.full(len(frame), np.nan)
    ok = frame["success"].to_numpy(dtype=bool)
    operations = frame["operation"].to_numpy(dtype=object)
    durations = frame["duration_ms"].to_numpy(dtype=np.float64)
    for name in dict.fromkeys(operations.tolist()):
        positions = np.flatnonzero((operations == name) & ok)
        m, p = rolling_statistics(durations[positions], window)
        mean[positions] = m
        p95[positions] = p
    frame["rolling_mean_ms"] = mean
    frame["rolling_p95_ms"] = p95
    return frame


# -- per-call data from any source ----------------------------------------------------
def successful_calls(source: Any, name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """``(start times in epoch ns, durations in ns, successful calls before them)`` of the
    kept successful calls of ``name``, oldest first, from a profiler or a snapshot
    (anything :func:`~wdbx_notebook.snapshot.as_snapshot` takes)."""
    from .snapshot import as_snapshot

    snap = as_snapshot(source)
    stats = snap.summary(name)  # unknown names raise here
    calls = snap.calls(name)
    ok = calls.success
    starts, durations = calls.start_ns[ok], calls.duration_ns[ok]
    earlier = max(0, int(stats.success_count) - len(durations))
    return starts, durations, earlier


# -- step detection ---------------------------------------------------------------------
@dataclass(frozen=True)
class StepUp:
    """A sustained step up in an operation's durations.

    Attributes:
        operation: the operation's name.
        index: position in the kept history (0-based, successful calls) of the
            first call after the step.
        call_number: that call's number among all successful calls (1-based).
        timestamp: when that call started (seconds since the epoch).
        before_median_ms / after_median_ms: medians of the two segments.
        ratio: after / before median.
        p_value: significance of the step, allowing for the choice of split.
        calls_after: calls in the kept history from the step on.
    """

    operation: str
    index: int
    call_number: int
    timestamp: float
    before_median_ms: float
    after_median_ms: float
    ratio: float
    p_value: float
    calls_after: int

    def describe(self) -> str:
        """One sentence: how much, from which call and when, and how sure."""
        import time

        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.timestamp))
        p = "p < 1e-6" if self.p_value < 1e-6 else f"p = {self.p_value:.2g}"
        return (
            f"durations stepped up {self.ratio:.2f}x (median {self.before_median_ms:.3g}ms → "
            f"{self.after_median_ms:.3g}ms) from call #{self.call_number:,} at {when} "
            f"and stayed up for the {self.calls_after:,} calls since ({p})"
        )


def _rank_scan(values: np.ndarray) -> tuple[np.ndarray, float]:
    """Average ranks (ties share theirs) and the tie-corrected variance term (n + 1 - ties)."""
    import numpy as np

    n = len(values)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]
    tie = float((counts.astype(np.float64) ** 3 - counts).sum()) / (n * (n - 1))
    return ranks, (n + 1) - tie


def _max_z(ranks: np.ndarray, variance_term: float, splits: np.ndarray) -> np.ndarray:
    """Largest split statistic per row of (shuffled) ranks."""
    return _split_z(ranks, variance_term, splits).max(axis=-1)


def _split_z(ranks: np.ndarray, variance_term: float, splits: np.ndarray) -> np.ndarray:
    """For each split k: the standardised rank sum of the calls from k on (positive when
    later calls rank higher), i.e. the Mann-Whitney z of "after" against "before"."""
    import numpy as np

    n = ranks.shape[-1]
    after = n - splits  # calls after each split
    tail_sums = ranks[..., ::-1].cumsum(axis=-1)[..., after - 1]
    expected = after * (n + 1) / 2.0
    sigma = np.sqrt(splits * after * variance_term / 12.0)
    return (tail_sums - expected) / sigma


def split_statistics(durations: Any, segment: int) -> tuple[np.ndarray, np.ndarray]:
    """``(splits, z)``: every split leaving ``segment`` calls on each side, and its
    tie-corrected Mann-Whitney z of the later calls against the earlier ones.

    >>> splits, z = split_statistics([1, 1, 1, 5, 5, 5], segment=2)
    >>> splits.tolist(), int(z.argmax())
    ([2, 3, 4], 1)
    """
    import numpy as np

    values = np.asarray(durations, dtype=np.float64)
    n = len(values)
    splits = np.arange(segment, n - segment + 1)
    ranks, variance_term = _rank_scan(values)
    if variance_term <= 0 or not len(splits):
        return splits, np.zeros(len(splits))
    return splits, _split_z(ranks, variance_term, splits)


def step_test(
    durations: Any,
    *,
    alpha: float = DEFAULT_ALPHA,
    min_increase: float = DEFAULT_MIN_INCREASE,
    min_segment: int = MIN_SEGMENT,
) -> dict[str, Any] | None:
    """Test a sequence of durations for a sustained step up; None when there is none.

    Returns ``{"index", "ratio", "p_value", "before_median", "after_median"}``
    (medians in the input's unit) for a step that is large enough, sustained
    and significant. See the module doc for the method.

    >>> step_test([1.0] * 50 + [2.0] * 50)["index"]
    50
    >>> step_test([1.0, 2.0] * 50) is None
    True
    """
    import numpy as np

    values = np.asarray(durations, dtype=np.float64)
    n = len(values)
    segment = max(min_segment, n // 20)
    if n < 2 * segment:
        return None
    splits = np.arange(segment, n - segment + 1)
    ranks, variance_term = _rank_scan(values)
    if variance_term <= 0:
        return None  # every duration equal: nothing moved
    z = _split_z(ranks, variance_term, splits)
    best = int(np.argmax(z))
    z_best = float(z[best])
    k = int(splits[best])
    before_median = float(np.median(values[:k]))
    after_values = values[k:]
    half = len(after_values) // 2
    after_median = float(np.median(after_values))
    if before_median <= 0:
        return None
    floor = (1 + min_increase) * before_median
    # Sustained: both halves of what follows stay up, and so does the whole.
    if not (
        after_median >= floor
        and np.median(after_values[:half]) >= floor
        and np.median(after_values[half:]) >= floor
    ):
        return None
    single = 0.5 * math.erfc(z_best / math.sqrt(2.0))  # one split's one-sided p-value
    if single >= alpha:
        return None  # not even the best split alone is significant
    bonferroni = min(1.0, single * len(splits))
    if bonferroni < alpha:
        p_value = bonferroni
    else:
        p_value = _permutation_p(ranks, variance_term, splits, z_best)
        if p_value >= alpha:
            return None
    return {
        "index": k,
        "ratio": after_median / before_median,
        "p_value": p_value,
        "before_median": before_median,
        "after_median": after_median,
    }


def _permutation_p(
    ranks: np.ndarray, variance_term: float, splits: np.ndarray, observed: float
) -> float:
    import numpy as np

    rng = np.random.default_rng(SEED)
    n = len(ranks)
    at_least = 0
    block = max(1, 4_000_000 // n)  # shuffles per batch, bounded memory
    done = 0
    while done < PERMUTATIONS:
        count = min(block, PERMUTATIONS - done)
        shuffled = rng.permuted(np.broadcast_to(ranks, (count, n)), axis=1)
        at_least += int((_max_z(shuffled, variance_term, splits) >= observed).sum())
        done += count
    return (at_least + 1) / (PERMUTATIONS + 1)


def detect_step_up(
    source: Any,
    name: str,
    *,
    alpha: float = DEFAULT_ALPHA,
    min_increase: float = DEFAULT_MIN_INCREASE,
) -> StepUp | None:
    """A sustained step up in ``name``'s recent durations, or None.

    Args:
        source: a live profiler or a snapshot (both keep recent calls).
        name: the operation.
        alpha: significance level (allowing for the choice of split).
        min_increase: the smallest rise of the median that counts (0.10 = 10%).

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler()
    >>> with profiler.profile_block("once"):
    ...     pass
    >>> detect_step_up(profiler, "once") is None
    True
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 such as 0.001, got {alpha!r}")
    if not min_increase > 0:
        raise ValueError(
            f"min_increase must be a positive fraction such as 0.1, got {min_increase!r}"
        )
    starts, durations, earlier = successful_calls(source, name)
    found = step_test(durations, alpha=alpha, min_increase=min_increase)
    if found is None:
        return None
    index = found["index"]
    return StepUp(
        operation=name,
        index=index,
        call_number=earlier + index + 1,
        timestamp=float(starts[index]) / 1e9,
        before_median_ms=found["before_median"] / 1e6,
        after_median_ms=found["after_median"] / 1e6,
        ratio=found["ratio"],
        p_value=found["p_value"],
        calls_after=len(durations) - index,
    )
