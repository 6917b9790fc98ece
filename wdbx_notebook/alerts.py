"""Alerts: watch operations and speak up when their performance crosses a line.

A rule watches every operation whose name matches a glob pattern (``fnmatch``
rules: ``*``, ``?``, ``[abc]``), including operations created after the rule.
It is checked as calls are recorded, through the profiler's public hooks
(``on_new_operation``, ``watch``): a watched operation folds its pending calls
every few calls (every call at first, then about every 2% of its calls, at
most every :data:`MAX_CHECK_EVERY` calls, :data:`MAX_PERCENTILE_CHECK_EVERY`
for percentiles, :data:`MAX_BASELINE_CHECK_EVERY` for a baseline rule), and
the rule reads one figure of the operation's summary. Nothing is checked per
call.

When a rule is crossed, it fires once: the alert goes into the alert history,
the rule's callback is called as ``callback(operation, metric, value,
threshold)``, each alert listener (:func:`add_alert_listener`; in a notebook,
the banner ``%load_ext wdbx_notebook`` registers) is given the event, and
unless a listener displayed it, a :class:`~wdbx_notebook.PerformanceWarning`
is issued (filter it with the ``warnings`` module): one message per event. It
fires again only after the figure has gone back across the line (the rule
re-arms) and crosses it anew, or after the operation's statistics were reset.
Nothing a callback or listener raises reaches the profiled code (not even
``KeyboardInterrupt`` or ``SystemExit``): it becomes a
:class:`~wdbx_notebook.ProfilerInternalWarning`.

>>> import warnings
>>> from wdbx_notebook import PerformanceProfiler, PerformanceWarning
>>> from wdbx_notebook._clock import FakeClock
>>> clock = FakeClock()
>>> profiler = PerformanceProfiler(track_memory=False, clock=clock)
>>> seen = []
>>> rule = profiler.add_alert("db.*", metric="max_duration_ms", above=50,
...                           callback=lambda *args: seen.append(args))
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore", PerformanceWarning)
...     with profiler.profile_block("db.query"):
...         clock.advance_ms(80)
>>> seen
[('db.query', 'max_duration_ms', 80.0, 50.0)]

With ``baseline=`` (a saved session, snapshot or profiler), a rule fires when
:func:`~wdbx_notebook.compare.compare_samples` says an operation is
"slower" than in the baseline.
"""

from __future__ import annotations

import contextlib
import fnmatch
import itertools
import math
import threading
import time
import warnings
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._operation import warn_internal
from ._warnings import PerformanceWarning

if TYPE_CHECKING:
    from .profiler import PerformanceProfiler
    from .snapshot import Snapshot

#: The most calls between two checks of a rule on a figure that is O(1) to
#: keep (mean, max, success rate, ...).
MAX_CHECK_EVERY = 64

#: The most calls between two checks of a rule on a percentile.
MAX_PERCENTILE_CHECK_EVERY = 256

#: A rule is checked about every ``calls // CHECK_FRACTION`` calls (2%).
CHECK_FRACTION = 50

#: The most calls between two checks of a baseline rule (each runs a comparison).
MAX_BASELINE_CHECK_EVERY = 2_000

#: Alert events kept per profiler (oldest dropped first).
HISTORY_LIMIT = 1_000

#: Bootstrap resamples of the comparisons a baseline rule runs.
BASELINE_RESAMPLES = 2_000

_BASELINE_METRIC = "median_ratio_vs_baseline"

_PERCENTILE_METRICS = frozenset(
    {"median_duration_ms", "p90_duration_ms", "p95_duration_ms", "p99_duration_ms"}
)
_MEMORY_METRICS = frozenset({"avg_memory_delta", "max_memory_delta"})


def _metric_names() -> tuple[str, ...]:
    from .stats import OperationStats

    summary = OperationStats().summary()
    return tuple(
        key
        for key, value in summary.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    )


def _metric_value(summary: Any, metric: str) -> float | None:
    """One figure of an operation's summary (None: not defined yet)."""
    if metric in _MEMORY_METRICS and not summary.memory_call_count:
        return None  # no call had a memory figure: 0 would be invented
    if metric == "success_rate" and not summary.call_count:
        return None
    return summary.metric(metric)


def _summary(profiler: PerformanceProfiler, name: str, rules: list[AlertRule]) -> Any:
    """The operation's summary, as cheap as the rules allow.

    A rule on a percentile needs the full summary (it sorts the kept durations);
    the other figures (mean, max, std, success rate, memory, ...) come from the
    same ``summary()`` of a copy of the aggregates without its duration sample,
    which costs microseconds, not the milliseconds of a sort of 10,000 values.
    """
    if any(rule.baseline is None and rule.metric in _PERCENTILE_METRICS for rule in rules):
        return profiler.summary(name)
    from .stats import DurationDistribution

    stats = profiler.operation_stats(name)  # a copy, taken under the operation's lock
    stats.distribution = DurationDistribution()  # its percentiles are not read
    return stats.summary()


# -- listeners: who shows an alert -----------------------------------------------------
_listeners: list[Callable[[dict[str, Any]], Any]] = []
_listeners_lock = threading.Lock()


def add_alert_listener(callback: Callable[[dict[str, Any]], Any]) -> None:
    """Call ``callback(event)`` for every alert event (of every profiler).

    ``event`` is the dict :func:`alert_history` lists. A listener that shows
    the event to the user returns True; then the alert is not also issued as
    a :class:`~wdbx_notebook.PerformanceWarning` (one message per event).
    With no listener returning True (plain scripts, terminals), the warning is
    issued. ``%load_ext wdbx_notebook`` registers the notebook banner this
    way. Adding the same callback twice registers it once. What a listener
    raises becomes a :class:`~wdbx_notebook.ProfilerInternalWarning`.

    >>> shown = []
    >>> def show(event):
    ...     shown.append(event["message"])
    ...     return True
    >>> add_alert_listener(show)
    >>> remove_alert_listener(show)
    True
    """
    if not callable(callback):
        raise TypeError(f"an alert listener must be callable as callback(event), got {callback!r}")
    with _listeners_lock:
        if callback not in _listeners:
            _listeners.append(callback)


def remove_alert_listener(callback: Callable[[dict[str, Any]], Any]) -> bool:
    """Stop calling ``callback``; returns whether it was registered."""
    with _listeners_lock:
        if callback in _listeners:
            _listeners.remove(callback)
            return True
        return False


@dataclass(eq=False)
class AlertRule:
    """One alert rule; :func:`add_alert` makes them, :func:`list_alerts` lists them.

    Attributes:
        id: a number unique within the process, for :func:`remove_alert`.
        pattern: the glob over operation names.
        metric: the statistic watched (a key of ``get_statistics``), or
            ``"median_ratio_vs_baseline"`` for a baseline rule.
        above / below: the thresholds (either or both).
        baseline: the snapshot compared against, or ``None``.
        threshold: the relative change a baseline rule counts as slower.
        fired: how many times the rule has fired.
        firing: the operations currently past the line (fired, not re-armed).
    """

    id: int
    pattern: str
    metric: str
    above: float | None
    below: float | None
    callback: Callable[[str, str, float, float], Any] | None = field(repr=False)
    baseline: Snapshot | None = field(repr=False)
    threshold: float
    check_every: int | None
    fired: int = 0
    firing: set[str] = field(default_factory=set)

    def matches(self, operation: str) -> bool:
        """Whether the pattern matches an operation name (case-sensitive)."""
        return fnmatch.fnmatchcase(operation, self.pattern)

    def describe(self) -> str:
        """The rule in words: ``"p95_duration_ms of 'db.*' above 50"``."""
        if self.baseline is not None:
            return f"{self.pattern!r} slower than its baseline by {self.threshold:.0%} or more"
        parts = []
        if self.above is not None:
            parts.append(f"above {self.above:g}")
        if self.below is not None:
            parts.append(f"below {self.below:g}")
        return f"{self.metric} of {self.pattern!r} {' or '.join(parts)}"

    def _interval(self, calls: int) -> int:
        if self.check_every is not None:
            return self.check_every
        if self.baseline is not None:
            most = MAX_BASELINE_CHECK_EVERY
        elif self.metric in _PERCENTILE_METRICS:
            most = MAX_PERCENTILE_CHECK_EVERY
        else:
            most = MAX_CHECK_EVERY
        return max(1, min(most, calls // CHECK_FRACTION))


_ids = itertools.count(1)


class _Alerts:
    """The rules, firing state and history of one profiler, wired through its
    public hooks (``on_new_operation``, ``watch``, ``summary``, ``snapshot``)."""

    def __init__(self, profiler: PerformanceProfiler) -> None:
        self.profiler_ref = weakref.ref(profiler)
        self.rules: list[AlertRule] = []
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY_LIMIT)
        self.lock = threading.RLock()
        # Watched operations: name -> (unwatch, every).
        self.watches: dict[str, tuple[Callable[[], None], int]] = {}
        # One check at a time per operation (re-entrant: reading folds, which notifies).
        self.check_locks: dict[str, threading.RLock] = {}
        # Calls seen at the last check of each (rule, operation), for baseline rules,
        # and of each operation, to notice a reset.
        self.last_checked: dict[tuple[int, str], int] = {}
        self.last_calls: dict[str, int] = {}
        # (rule id, operation) -> the calls a baseline rule's baseline holds.
        self.held: dict[tuple[int, str], set[tuple[int, int]]] = {}
        self.remove_hook = profiler.on_new_operation(self.on_new_operation)

    # -- wiring ------------------------------------------------------------------
    def on_new_operation(self, name: str) -> None:
        with self.lock:
            wanted = any(rule.matches(name) for rule in self.rules)
        if wanted:
            self._watch(name, 1)

    def _watch(self, name: str, every: int) -> None:
        profiler = self.profiler_ref()
        if profiler is None:
            return
        with self.lock:
            current = self.watches.get(name)
            if current is not None and current[1] == every:
                return
            if current is not None:
                current[0]()  # unwatch first, so the batch size can grow again
            self.watches[name] = (profiler.watch(name, self.on_flush, every=every), every)

    def _unwatch(self, name: str) -> None:
        with self.lock:
            current = self.watches.pop(name, None)
            self.last_calls.pop(name, None)
        if current is not None:
            current[0]()

    def rewire(self) -> None:
        """Watch exactly the operations some rule matches; release the others."""
        profiler = self.profiler_ref()
        if profiler is None:
            return
        for name in profiler.operation_names():
            with self.lock:
                wanted = any(rule.matches(name) for rule in self.rules)
                watched = name in self.watches
            if wanted and not watched:
                self._watch(name, 1)
            elif watched and not wanted:
                self._unwatch(name)

    # -- checking ------------------------------------------------------------------
    def on_flush(self, name: str) -> None:
        """Called by the profiler after calls of ``name`` were folded (or it was reset)."""
        profiler = self.profiler_ref()
        if profiler is None:
            return
        try:
            events = self._check(profiler, name)
        except Exception as err:
            warn_internal(f"checking the alert rules of {name!r}", err)
            return
        for rule, event in events:
            self._fire(rule, event)

    def _check(
        self, profiler: PerformanceProfiler, name: str
    ) -> list[tuple[AlertRule, dict[str, Any]]]:
        with self.lock:
            rules = [rule for rule in self.rules if rule.matches(name)]
            check_lock = self.check_locks.setdefault(name, threading.RLock())
        if not rules:
            return []
        events: list[tuple[AlertRule, dict[str, Any]]] = []
        with check_lock:
            summary = _summary(profiler, name, rules)
            calls = summary.call_count
            with self.lock:
                if calls < self.last_calls.get(name, 0):
                    # Reset: what was firing re-arms, so the next crossing fires again.
                    for rule in self.rules:
                        rule.firing.discard(name)
                    for key in [k for k in self.last_checked if k[1] == name]:
                        del self.last_checked[key]
                self.last_calls[name] = calls
            intervals = []
            for rule in rules:
                intervals.append(rule._interval(calls))
                if rule.baseline is None:
                    crossed, value, limit = self._check_threshold(rule, summary)
                else:
                    key = (rule.id, name)
                    due = calls - self.last_checked.get(key, 0) >= rule._interval(calls)
                    if not due:
                        continue
                    self.last_checked[key] = calls
                    crossed, value, limit = self._check_baseline(rule, name, profiler)
                with self.lock:
                    event = self._transition(rule, name, crossed, value, limit)
                if event is not None:
                    events.append((rule, event))
            if name in self.watches:
                self._watch(name, min(intervals))
        return events

    @staticmethod
    def _check_threshold(rule: AlertRule, summary: Any) -> tuple[bool | None, float, float]:
        value = _metric_value(summary, rule.metric)
        if value is None:
            return None, math.nan, math.nan
        if rule.above is not None and value > rule.above:
            return True, value, rule.above
        if rule.below is not None and value < rule.below:
            return True, value, rule.below
        limit = rule.above if rule.above is not None else rule.below
        return False, value, float(limit if limit is not None else math.nan)

    def _check_baseline(
        self, rule: AlertRule, name: str, profiler: PerformanceProfiler
    ) -> tuple[bool | None, float, float]:
        from .compare import MIN_CALLS, calls_since_baseline, compare_samples, held_calls

        baseline = rule.baseline
        if baseline is None or name not in baseline.get_all_operations():
            return None, math.nan, math.nan
        base_ns = baseline.recent_durations_ns(name)
        if len(base_ns) < MIN_CALLS:
            return None, math.nan, math.nan
        held = self.held.get((rule.id, name))
        if held is None:  # a baseline never changes: what it holds is worked out once
            held = self.held[(rule.id, name)] = held_calls(baseline, name)
        current, _ = calls_since_baseline(baseline, profiler.snapshot([name]), name, held)
        current_ns = current.duration_ns[current.success]
        if len(current_ns) < MIN_CALLS:
            return None, math.nan, math.nan
        result = compare_samples(base_ns, current_ns, rule.threshold, resamples=BASELINE_RESAMPLES)
        ratio = float(result["ratio"])
        if result["verdict"] == "slower":
            return True, ratio, 1 + rule.threshold
        if result["verdict"] == "inconclusive: need more calls":
            return None, ratio, 1 + rule.threshold  # keep the current state
        return False, ratio, 1 + rule.threshold

    def _transition(
        self, rule: AlertRule, name: str, crossed: bool | None, value: float, limit: float
    ) -> dict[str, Any] | None:
        if crossed is None:
            return None
        if crossed and name not in rule.firing:
            rule.firing.add(name)
            rule.fired += 1
            event = self._event("crossed", rule, name, value, limit)
            self.history.append(event)
            return event
        if not crossed and name in rule.firing:
            rule.firing.discard(name)  # re-armed: the next crossing fires again
            self.history.append(self._event("recovered", rule, name, value, limit))
        return None

    @staticmethod
    def _event(kind: str, rule: AlertRule, name: str, value: float, limit: float) -> dict[str, Any]:
        return {
            "time": time.time(),
            "kind": kind,
            "operation": name,
            "metric": rule.metric,
            "value": value,
            "threshold": limit,
            "rule_id": rule.id,
            "rule": rule.describe(),
            "message": _message(kind, rule, name, value, limit),
        }

    def _fire(self, rule: AlertRule, event: dict[str, Any]) -> None:
        # Callbacks and listeners run on the thread that recorded a successful call:
        # nothing they raise may reach it, KeyboardInterrupt and SystemExit included
        # (they become a ProfilerInternalWarning; the call's outcome is the code's own).
        if rule.callback is not None:
            try:
                rule.callback(
                    event["operation"], event["metric"], event["value"], event["threshold"]
                )
            except BaseException as err:
                warn_internal(f"the callback of alert rule {rule.id} ({rule.describe()})", err)
        with _listeners_lock:
            listeners = list(_listeners)
        shown = False
        for listener in listeners:
            try:
                shown = listener(dict(event)) is True or shown
            except BaseException as err:
                warn_internal(f"the alert listener {listener!r}", err)
        if shown:
            return  # one message per event: a listener displayed it
        # A filter may turn alerts into errors; recording calls must still not raise
        # into the profiled code, and the alert is in the history either way.
        with contextlib.suppress(Exception):
            warnings.warn(event["message"], PerformanceWarning, stacklevel=_user_stacklevel())


def _user_stacklevel() -> int:
    """The stacklevel that points a warning at the first frame outside this package
    (the user's call that recorded or read the calls), however deep the flush was."""
    import os
    import sys

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame = sys._getframe(1)  # the caller of warnings.warn
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _message(kind: str, rule: AlertRule, name: str, value: float, limit: float) -> str:
    if rule.baseline is not None:
        if kind == "crossed":
            return (
                f"wdbx_notebook alert: {name!r} is {value:.2f}x slower than its baseline "
                f"(median ratio; the rule fires from {limit:.2f}x)"
            )
        return f"wdbx_notebook alert cleared: {name!r} is no longer slower than its baseline"
    side = "above" if rule.above is not None and value > rule.above else "below"
    if kind == "crossed":
        return (
            f"wdbx_notebook alert: {name!r} {rule.metric} is {value:.4g}, {side} the limit "
            f"{limit:g} (rule {rule.pattern!r})"
        )
    return f"wdbx_notebook alert cleared: {name!r} {rule.metric} is back to {value:.4g}"


# -- the registry per profiler -----------------------------------------------------
_registries: weakref.WeakKeyDictionary[PerformanceProfiler, _Alerts] = weakref.WeakKeyDictionary()
_registries_lock = threading.Lock()


def _is_live_profiler(candidate: object) -> bool:
    # Alerts need a profiler that records (snapshots do not): one with the public hooks.
    return all(callable(getattr(candidate, hook, None)) for hook in ("watch", "on_new_operation"))


def _registry(profiler: PerformanceProfiler, create: bool = True) -> _Alerts | None:
    with _registries_lock:
        registry = _registries.get(profiler)
        if registry is None and create:
            registry = _registries[profiler] = _Alerts(profiler)
        return registry


def _check_number(value: object, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise TypeError(f"{name} must be a number or None, got {value!r}")
    return float(value)


def add_alert(
    profiler: PerformanceProfiler,
    pattern: str,
    metric: str = "p95_duration_ms",
    above: float | None = None,
    below: float | None = None,
    callback: Callable[[str, str, float, float], Any] | None = None,
    baseline: Snapshot | PerformanceProfiler | str | None = None,
    *,
    threshold: float = 0.05,
    check_every: int | None = None,
) -> AlertRule:
    """Watch operations matching ``pattern`` and alert when a figure crosses a line.

    Args:
        profiler: the profiler whose operations are watched.
        pattern: a glob over operation names (``"db.*"``, ``"*"``); it also
            matches operations created later.
        metric: a statistic of ``get_statistics`` (``"p95_duration_ms"``,
            ``"avg_duration_ms"``, ``"max_duration_ms"``, ``"success_rate"``,
            ``"avg_memory_delta"``, ...).
        above: fire when the metric goes above this.
        below: fire when the metric goes below this (e.g. a success rate).
        callback: called as ``callback(operation, metric, value, threshold)``.
        baseline: a saved session (path or snapshot) or profiler: fire when an
            operation is "slower" than there (see :mod:`wdbx_notebook.compare`);
            ``metric``, ``above`` and ``below`` are then not used.
        threshold: for a baseline rule, the relative slowdown that counts.
        check_every: check every this many calls instead of the adaptive
            default (every call at first, then about every 2% of the calls).

    Returns:
        The :class:`AlertRule`, for :func:`remove_alert`.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler()
    >>> add_alert(profiler, "search*", above=100).describe()
    "p95_duration_ms of 'search*' above 100"
    """
    if not _is_live_profiler(profiler):
        raise TypeError(f"add_alert() needs a PerformanceProfiler, got {type(profiler).__name__}")
    if not isinstance(pattern, str) or not pattern.strip():
        raise TypeError(f"pattern must be a non-empty glob string such as 'db.*', got {pattern!r}")
    above_value = _check_number(above, "above")
    below_value = _check_number(below, "below")
    if callback is not None and not callable(callback):
        raise TypeError(
            "callback must be callable as callback(operation, metric, value, threshold), "
            f"got {callback!r}"
        )
    if check_every is not None and (
        isinstance(check_every, bool) or not isinstance(check_every, int) or check_every < 1
    ):
        raise ValueError(f"check_every must be an int >= 1 or None, got {check_every!r}")
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not 0 < threshold < 1
    ):
        raise ValueError(
            f"threshold must be a fraction between 0 and 1 such as 0.05, got {threshold!r}"
        )
    from .persistence import as_session

    snapshot_baseline = None if baseline is None else as_session(baseline, "baseline")
    if snapshot_baseline is None:
        metrics = _metric_names()
        if metric not in metrics:
            raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(metrics)}")
        if above_value is None and below_value is None:
            raise ValueError(
                "give above=, below= (or both), or baseline=, so the rule has a line to cross"
            )
        if above_value is not None and below_value is not None and below_value > above_value:
            raise ValueError(
                f"below={below_value:g} is greater than above={above_value:g}: every value "
                "would cross one of them; use below < above"
            )
    else:
        metric = _BASELINE_METRIC
    rule = AlertRule(
        id=next(_ids),
        pattern=pattern,
        metric=metric,
        above=above_value,
        below=below_value,
        callback=callback,
        baseline=snapshot_baseline,
        threshold=float(threshold),
        check_every=check_every,
    )
    registry = _registry(profiler)
    assert registry is not None
    with registry.lock:
        registry.rules.append(rule)
    registry.rewire()
    # Judge what is already recorded right away, not only after the next calls.
    for name in profiler.get_all_operations():
        if rule.matches(name):
            registry.on_flush(name)
    return rule


def list_alerts(profiler: PerformanceProfiler) -> list[AlertRule]:
    """The alert rules of ``profiler``, oldest first.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> list_alerts(PerformanceProfiler())
    []
    """
    registry = _registry(profiler, create=False)
    if registry is None:
        return []
    with registry.lock:
        return list(registry.rules)


def remove_alert(profiler: PerformanceProfiler, rule: AlertRule | int | str | None = None) -> int:
    """Remove alert rules: one (the rule or its id), all with a pattern, or all (``None``).

    Returns how many rules were removed; operations no longer watched go back
    to their default flushing.

    Raises:
        ValueError: no rule matches what was given (the message lists the rules).

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler()
    >>> rule = add_alert(profiler, "*", above=5)
    >>> remove_alert(profiler, rule)
    1
    """
    if isinstance(rule, bool) or (rule is not None and not isinstance(rule, (AlertRule, int, str))):
        raise TypeError(f"rule must be an AlertRule, its id, a pattern or None, got {rule!r}")
    registry = _registry(profiler, create=False)
    if registry is None:
        if rule is None:
            return 0
        raise ValueError(f"no alert rule matches {rule!r}; the profiler has no alert rules")
    with registry.lock:
        rules = list(registry.rules)
        if rule is None:
            doomed = rules
        elif isinstance(rule, AlertRule):
            doomed = [r for r in rules if r is rule]
        elif isinstance(rule, int):
            doomed = [r for r in rules if r.id == rule]
        else:
            doomed = [r for r in rules if r.pattern == rule]
        if rule is not None and not doomed:
            known = "; ".join(f"{r.id}: {r.describe()}" for r in rules) or "there are none"
            raise ValueError(f"no alert rule matches {rule!r}; the rules are: {known}")
        registry.rules = [r for r in rules if r not in doomed]
        gone = {r.id for r in doomed}
        registry.held = {k: v for k, v in registry.held.items() if k[0] not in gone}
    registry.rewire()
    return len(doomed)


def alert_history(profiler: PerformanceProfiler) -> list[dict[str, Any]]:
    """Alert events of ``profiler``, oldest first: ``time``, ``kind`` ("crossed" or
    "recovered"), ``operation``, ``metric``, ``value``, ``threshold``,
    ``rule_id``, ``rule`` and ``message``.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> alert_history(PerformanceProfiler())
    []
    """
    registry = _registry(profiler, create=False)
    if registry is None:
        return []
    with registry.lock:
        return [dict(event) for event in registry.history]
