"""The profiler: a registry of operations, the entry points that feed them, and
the snapshots that read them.

Calls flow one way: a wrapper (:mod:`._wrappers`) appends a record to its
operation's pending list; the operation (:mod:`._operation`) folds records
into exact aggregates and recent calls; :meth:`PerformanceProfiler.snapshot`
hands a :class:`~wdbx_notebook.snapshot.Snapshot` to whatever reads. The seed
guide's readers (``get_statistics``, ``get_all_operations``, ...) read the
same aggregates; the views' shortcuts (``report()``, ``to_dataframe()``, ...)
live in :mod:`._views`, above every reader.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import os
import socket
import threading
import uuid
import warnings
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar, overload

from . import _clock, _environment, _gc, _memory, _operation
from ._hooks import views
from ._operation import FLUSH_EVERY, State, _Operation, warn_internal
from ._warnings import WdbxWarning
from ._wrappers import ProfileBlock, async_wrapper, block_spec, new_block, sync_wrapper
from .snapshot import Snapshot, UnknownOperationError, unknown_operation
from .stats import OperationStats, OperationSummary

__all__ = [
    "DEFAULT_HISTORY_LIMIT",
    "DEFAULT_OPERATION_LIMIT",
    "FLUSH_EVERY",
    "PerformanceProfiler",
    "ProfileBlock",
    "UnknownOperationError",
    "get_performance_profiler",
]

F = TypeVar("F", bound=Callable[..., Any])
TrackMemory = bool | Literal["rss", "tracemalloc"] | None

#: Per-call records kept per operation by default (the statistics are unbounded).
DEFAULT_HISTORY_LIMIT = 10_000

#: Distinct operation names past which the profiler warns (once) that names
#: probably carry data ("query 1", "query 2", ...).
DEFAULT_OPERATION_LIMIT = 10_000

# Older names, kept for code that imported them from here.
_warn_internal = warn_internal
_State = State

_NS_PER_S = 1_000_000_000

#: Makes a block object without running any __init__ (new_block, inlined).
_new_object = object.__new__

#: Every live profiler, so that a forked child can clear what it inherited.
_PROFILERS: weakref.WeakSet[PerformanceProfiler] = weakref.WeakSet()


def _check_name(name: object, what: str = "operation name") -> str:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a non-empty str, got {type(name).__name__} {name!r}")
    if not name.strip():
        raise ValueError(f"{what} must be a non-empty str, got {name!r}")
    return name


def _check_clock(clock: object) -> _clock.Clock:
    if not callable(clock):
        raise TypeError(f"clock must be a callable returning int nanoseconds, got {clock!r}")
    try:
        reading = clock()
    except Exception as err:
        raise TypeError(
            f"clock() must return int nanoseconds, but calling it raised {err!r}"
        ) from err
    if isinstance(reading, bool) or not isinstance(reading, int):
        raise TypeError(
            f"clock() must return int nanoseconds (like time.perf_counter_ns), got "
            f"{type(reading).__name__} {reading!r}; a float clock such as time.perf_counter "
            "would record every call as 0 ms"
        )
    return clock


class PerformanceProfiler:
    """Records the duration, memory delta, CPU time and outcome of named operations.

    Feed it with :meth:`profile` (a decorator), :meth:`profile_block` (a
    context manager) or the ``%%wdbx_profile`` cell magic; read it with
    :meth:`get_statistics`, :meth:`get_all_operations`, :meth:`snapshot` and
    the reports.

    >>> profiler = PerformanceProfiler()
    >>> @profiler.profile("square")
    ... def square(x):
    ...     return x * x
    >>> square(3)
    9
    >>> profiler.get_statistics("square")["call_count"]
    1

    Args:
        track_memory: default memory mode for this profiler's operations:
            ``True``/``"rss"`` (resident memory, the default), ``False`` (time
            only) or ``"tracemalloc"`` (exact Python heap, slow).
        track_cpu: record each call's thread CPU time; ``None`` (the default)
            means "with memory tracking": the default mode measures CPU time,
            time-only mode stays as lean as it can be unless ``True``.
        history_limit: per-call records kept per operation (most recent).
        clock: a zero-argument callable returning monotonic int nanoseconds.
        enabled: start enabled (the default) or disabled.
        operation_limit: distinct operation names past which the profiler
            warns once that names probably carry data (``None``: never).
    """

    def __init__(
        self,
        *,
        track_memory: TrackMemory = True,
        track_cpu: bool | None = None,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
        clock: _clock.Clock | None = None,
        enabled: bool = True,
        operation_limit: int | None = DEFAULT_OPERATION_LIMIT,
    ) -> None:
        self._default_memory = self._check_track_memory(track_memory, allow_none=False)
        self._default_cpu = self._check_track_cpu(track_cpu)
        if (
            not isinstance(history_limit, int)
            or isinstance(history_limit, bool)
            or history_limit < 0
        ):
            raise ValueError(f"history_limit must be an int >= 0, got {history_limit!r}")
        if operation_limit is not None and (
            not isinstance(operation_limit, int)
            or isinstance(operation_limit, bool)
            or operation_limit < 1
        ):
            raise ValueError(
                f"operation_limit must be an int >= 1 or None, got {operation_limit!r}"
            )
        self.history_limit = history_limit
        self.operation_limit = operation_limit
        self._clock: _clock.Clock = _clock.now_ns if clock is None else _check_clock(clock)
        # GC pauses are read on the default clock; a fake clock gets none attributed.
        self._gc_pauses = _gc.pauses if self._clock is _clock.now_ns else _gc.no_pauses
        # Records hold monotonic readings; this offset puts them on the wall clock.
        self._wall_offset_ns = _clock.wall_ns() - self._clock()
        self._operations: dict[str, _Operation] = {}
        self._registry_lock = threading.Lock()
        self._state = State(bool(enabled))
        # profile_block(name) in the default mode, called afresh per run: name -> maker.
        self._blocks: dict[str, tuple[type[ProfileBlock], tuple[Any, ...]]] = {}
        self._new_operation_hooks: list[Callable[[str], None]] = []
        self._warned_operation_limit = False
        # Calls absorbed from other processes: drain ids seen, and per source.
        self._absorbed: set[str] = set()
        self._sources: dict[str, dict[str, Any]] = {}
        self._source_stats: dict[str, dict[str, OperationStats]] = {}
        _PROFILERS.add(self)
        _gc.install()
        weakref.finalize(self, _gc.uninstall)

    # -- configuration -----------------------------------------------------
    @staticmethod
    def _check_track_memory(value: object, allow_none: bool = True) -> TrackMemory:
        if value is None and allow_none:
            return None
        if isinstance(value, bool) or value in ("rss", "tracemalloc"):
            return value
        raise ValueError(
            f"track_memory must be True, False, 'rss' or 'tracemalloc'"
            f"{' or None' if allow_none else ''}, got {value!r}"
        )

    @staticmethod
    def _check_track_cpu(value: object) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        raise ValueError(f"track_cpu must be True, False or None, got {value!r}")

    def _probe_for(self, track_memory: TrackMemory) -> _memory.MemoryProbe | None:
        mode = self._default_memory if track_memory is None else track_memory
        if mode is False:
            return None
        if mode == "tracemalloc":
            return _memory.tracemalloc_probe()
        return _memory.rss_probe()

    def _cpu_for(self, track_cpu: bool | None, probe: Any) -> bool:
        if track_cpu is not None:
            return track_cpu
        if self._default_cpu is not None:
            return self._default_cpu
        return probe is not None

    def _operation(self, name: str) -> _Operation:
        op = self._operations.get(name)
        if op is None:
            with self._registry_lock:
                op = self._operations.get(name)
                created = op is None
                if op is None:
                    op = _Operation(name, self.history_limit, self._wall_offset_ns)
                    op.gc_pauses = self._gc_pauses
                    self._operations[name] = op
            if created:
                self._created(name)
        return op

    def _created(self, name: str) -> None:
        limit = self.operation_limit
        if limit is not None and not self._warned_operation_limit and len(self._operations) > limit:
            self._warned_operation_limit = True
            with contextlib.suppress(Exception):
                warnings.warn(
                    f"wdbx_notebook: {len(self._operations)} distinct operation names (more than "
                    f"operation_limit={limit}); names that carry data, such as "
                    f'profile_block(f"query {{i}}"), make one operation per item. Name each kind '
                    'of work once (profile_block("query")), or raise operation_limit.',
                    WdbxWarning,
                    stacklevel=4,
                )
        for hook in list(self._new_operation_hooks):
            try:
                hook(name)
            except Exception as err:
                warn_internal(f"watching the new operation {name!r}", err)

    @property
    def enabled(self) -> bool:
        """Whether calls are being recorded."""
        return self._state.enabled

    def enable(self) -> None:
        """Start recording calls again."""
        self._state.enabled = True

    def disable(self) -> None:
        """Stop recording: profiled code then runs with only a flag check of overhead."""
        self._state.enabled = False

    # -- feeding -----------------------------------------------------------
    @overload
    def profile(
        self, name: F, *, track_memory: TrackMemory = None, track_cpu: bool | None = None
    ) -> F: ...
    @overload
    def profile(
        self,
        name: str | None = None,
        *,
        track_memory: TrackMemory = None,
        track_cpu: bool | None = None,
    ) -> Callable[[F], F]: ...

    def profile(
        self, name: Any = None, *, track_memory: TrackMemory = None, track_cpu: bool | None = None
    ) -> Any:
        """Decorator that records every call of a function under an operation name.

        Use as ``@profiler.profile``, ``@profiler.profile("name")`` or
        ``@profiler.profile(name="name", track_memory=False)``. Without a name,
        the operation is named after the function's qualified name. Works on
        plain functions, methods, ``staticmethod`` objects and ``async def``
        functions (whose duration covers the whole await).

        >>> profiler = PerformanceProfiler()
        >>> @profiler.profile
        ... def load():
        ...     return 1
        >>> load(); profiler.get_all_operations()
        1
        ['load']
        """
        track_memory = self._check_track_memory(track_memory)
        track_cpu = self._check_track_cpu(track_cpu)
        if not isinstance(name, str) and (
            callable(name) or isinstance(name, (staticmethod, classmethod))
        ):
            return self._decorate(name, None, track_memory, track_cpu)
        if name is not None:
            _check_name(name)

        def decorator(func: F) -> F:
            return self._decorate(func, name, track_memory, track_cpu)

        return decorator

    def _decorate(
        self, func: Any, name: str | None, track_memory: TrackMemory, track_cpu: bool | None
    ) -> Any:
        if isinstance(func, staticmethod):
            # @profile above @staticmethod: profile the function, keep it static.
            inner = func.__func__
            return staticmethod(self._decorate(inner, name, track_memory, track_cpu))
        if isinstance(func, classmethod):
            raise TypeError(
                "profile() cannot wrap a classmethod object; put @profile below @classmethod, "
                "next to the function"
            )
        if not callable(func):
            raise TypeError(
                "profile() decorates a function or other callable, "
                f"got {type(func).__name__} {func!r}"
            )
        op_name = name if name is not None else getattr(func, "__qualname__", None) or repr(func)
        return self._wrap(func, op_name, track_memory, track_cpu)

    def _wrap(self, func: Any, name: str, track_memory: TrackMemory, track_cpu: bool | None) -> Any:
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            # A generator's call returns before its body runs: timing it would
            # report a few hundred nanoseconds whatever the work costs.
            raise TypeError(
                f"profile() times calls, but {getattr(func, '__qualname__', func)!r} is a "
                "generator function whose body runs only as it is iterated; time the loop that "
                'consumes it with profile_block("name") instead'
            )
        op = self._operation(name)
        probe = self._probe_for(track_memory)
        cpu = self._cpu_for(track_cpu, probe)
        if inspect.iscoroutinefunction(func):
            wrapper = async_wrapper(func, op, self._clock, probe, cpu, self._state)
        else:
            wrapper = sync_wrapper(func, op, self._clock, probe, cpu, self._state)
        wrapper.__wdbx_operation__ = name  # type: ignore[attr-defined]
        return wrapper

    def profile_block(
        self, name: str, *, track_memory: TrackMemory = None, track_cpu: bool | None = None
    ) -> ProfileBlock:
        """Context manager that records one run of a block under ``name``.

        Works with ``with`` and ``async with``; the returned block exposes
        ``duration_ms`` and ``memory_delta`` after it ends.

        >>> profiler = PerformanceProfiler()
        >>> with profiler.profile_block("setup") as block:
        ...     data = list(range(1000))
        >>> block.duration_ms >= 0
        True
        """
        if track_memory is None and track_cpu is None:
            try:
                spec = self._blocks.get(name)
            except TypeError:  # unhashable: _check_name below says what is wrong
                spec = None
            if spec is not None:
                # The usual path of profile_block(name) per run: no name check, no
                # set-up; new_block inlined, as one Python call is a fifth of its cost.
                block = _new_object(spec[0])
                block._cfg = spec[1]
                return block
        _check_name(name)
        track_memory = self._check_track_memory(track_memory)
        probe = self._probe_for(track_memory)
        cpu = self._cpu_for(self._check_track_cpu(track_cpu), probe)
        spec = block_spec(self._operation(name), self._clock, probe, self._state, cpu)
        if track_memory is None and track_cpu is None:
            self._blocks[name] = spec
        return new_block(spec)

    # -- hooks (alerts and integrations use these) ---------------------------
    def on_new_operation(self, callback: Callable[[str], Any]) -> Callable[[], None]:
        """Call ``callback(name)`` whenever an operation is first created.

        Returns a function that removes the hook again.
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {callback!r}")
        self._new_operation_hooks.append(callback)
        return lambda: _discard(self._new_operation_hooks, callback)

    def watch(
        self, name: str, callback: Callable[[str], Any], *, every: int = FLUSH_EVERY
    ) -> Callable[[], None]:
        """Call ``callback(name)`` after new calls of operation ``name`` are folded in,
        at least every ``every`` calls (1 = after each call).

        Returns a function that removes the watch (and restores the batch size).
        The callback runs on the recording thread, outside the profiler's locks;
        what it raises becomes a :class:`~wdbx_notebook.ProfilerInternalWarning`.
        """
        _check_name(name)
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {callback!r}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an int >= 1, got {every!r}")
        op = self._operation(name)
        op.listeners.append(callback)
        op.set_flush_every(min(every, op.watch_every))

        def unwatch() -> None:
            _discard(op.listeners, callback)
            if not op.listeners:
                op.set_flush_every(FLUSH_EVERY)

        return unwatch

    def operation_names(self) -> list[str]:
        """Every operation name known, including those without calls yet."""
        return list(self._operations)

    # -- reading -----------------------------------------------------------
    def _known(self, name: object) -> _Operation:
        _check_name(name)
        op = self._operations.get(name)  # type: ignore[call-overload]
        if op is None:  # a reset operation is still known, with zero calls
            raise unknown_operation(
                str(name),
                self.get_all_operations(),
                "no profiled operation named",
                "nothing has been profiled yet",
            )
        return op

    def snapshot(self, names: Iterable[str] | None = None) -> Snapshot:
        """A read-only :class:`~wdbx_notebook.snapshot.Snapshot` of every operation
        (or of ``names``) now: what every view reads.

        Each operation is copied in one step under its lock, so its aggregates and
        recent calls agree; later calls do not change the snapshot.

        >>> profiler = PerformanceProfiler()
        >>> profiler.snapshot().get_all_operations()
        []
        """
        ops = (
            [self._known(n) for n in names]
            if names is not None
            else list(self._operations.values())
        )
        stats: dict[str, OperationStats] = {}
        calls: dict[str, Any] = {}
        summaries = {}
        keep: dict[str, Callable[[OperationSummary], None]] = {}
        for op in ops:
            copied, chunks, summary, version = op.capture()
            if not copied.call_count and names is None:
                continue
            stats[op.name] = copied
            calls[op.name] = chunks
            if summary is not None:
                summaries[op.name] = summary
            else:  # computed by the snapshot if asked for: offered back to the operation
                keep[op.name] = functools.partial(op.offer_summary, version)
        return Snapshot(
            stats,
            calls,
            summaries=summaries,
            summary_sinks=keep,
            environment=_environment.environment_facts(),
            history_limit=self.history_limit,
            sources=self._sources,
            source_stats={
                k: {n: s.copy() for n, s in v.items()} for k, v in self._source_stats.items()
            },
        )

    def get_statistics(self, name: str) -> dict[str, Any]:
        """Statistics of one operation (see the README for each definition).

        Keys: ``call_count``, ``success_count``, ``error_count``,
        ``success_rate`` (percent), ``total_duration_ms``, ``avg_duration_ms``,
        ``min_duration_ms``, ``max_duration_ms``, ``median_duration_ms``,
        ``p90_duration_ms``, ``p95_duration_ms``, ``p99_duration_ms``,
        ``std_duration_ms`` (sample, n-1), ``avg_memory_delta``,
        ``total_memory_impact`` and ``max_memory_delta`` (bytes),
        ``memory_call_count``, ``calls_per_second`` (calls over the span from
        the first start to the last end), ``first_call`` and ``last_call``
        (seconds since the epoch), ``errors_by_type``, ``percentiles_exact``,
        ``first_call_ms``, ``warmup_calls`` and ``steady_median_ms``, and, where
        measured (``None`` otherwise), ``avg_cpu_ms``, ``cpu_share``,
        ``avg_waiting_ms``, ``gc_pause_ms`` and ``calls_with_gc``.

        Raises:
            KeyError: no operation has that name; the message suggests close names.
        """
        return self._known(name).summary().as_dict()

    def summary(self, name: str) -> Any:
        """The typed statistics of one operation (a :class:`~.stats.OperationSummary`)."""
        return self._known(name).summary()

    def get_all_operations(self) -> list[str]:
        """Names of the operations with at least one recorded call, in order of first use."""
        return [name for name, op in list(self._operations.items()) if op.call_count()]

    def get_all_statistics(self) -> dict[str, dict[str, Any]]:
        """``{name: get_statistics(name)}`` for every operation with calls."""
        return {
            name: self._operations[name].summary().as_dict() for name in self.get_all_operations()
        }

    def operation_stats(self, name: str) -> OperationStats:
        """A copy of one operation's raw aggregates (for saving and merging)."""
        return self._known(name).capture()[0]

    def get_call_history(self, name: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Per-call records of the most recent ``history_limit`` calls per operation,
        oldest first.

        Each record: ``timestamp`` (start, seconds since the epoch),
        ``duration_ms``, ``memory_delta`` (bytes or ``None``), ``success``,
        ``error`` (exception type name or ``None``) and ``thread`` (its name).
        """
        return self.snapshot(None if name is None else [name]).get_call_history(name)

    def recent_durations_ns(self, name: str) -> Any:
        """Durations (ns, a numpy array) of the recent successful calls, in start order."""
        return self.snapshot([name]).recent_durations_ns(name)

    def recent_starts_ns(self, name: str) -> Any:
        """Start times (ns since the epoch) of the recent successful calls."""
        return self.snapshot([name]).recent_starts_ns(name)

    @property
    def wall_offset_ns(self) -> int:
        """Add to a clock reading to get nanoseconds since the epoch."""
        return self._wall_offset_ns

    def reset_statistics(self, name: str | None = None) -> None:
        """Forget the recorded calls of one operation, or of all when ``name`` is None.

        Decorated functions keep working and record afresh.
        """
        ops = list(self._operations.values()) if name is None else [self._known(name)]
        for op in ops:
            op.reset()
            self._notify(op)

    # -- other processes -----------------------------------------------------
    def drain(self, worker: str | None = None) -> Snapshot:
        """What was recorded since the previous drain, as a Snapshot; the next drain
        starts from here.

        A call lands in exactly one drain; the profiler's own statistics are not
        cleared (a worker that also serves metrics keeps its cumulative view).
        Hand the result to :meth:`absorb` in another process.

        >>> profiler = PerformanceProfiler()
        >>> with profiler.profile_block("step"):
        ...     pass
        >>> profiler.drain().get_statistics("step")["call_count"], len(profiler.drain())
        (1, 0)
        """
        stats: dict[str, OperationStats] = {}
        calls: dict[str, Any] = {}
        for op in list(self._operations.values()):
            drained, chunks, _, _ = op.capture(drain=True)
            if drained.call_count:
                stats[op.name] = drained
                calls[op.name] = chunks
        host, pid = socket.gethostname(), os.getpid()
        origin = {
            "host": host,
            "pid": pid,
            "worker": worker,
            "drain_id": f"{host}:{pid}:{_PROCESS_TOKEN}:{next(_DRAINS)}",
        }
        return Snapshot(
            stats,
            calls,
            environment=_environment.environment_facts(),
            history_limit=self.history_limit,
            origin=origin,
        )

    def absorb(self, snapshot: Snapshot) -> int:
        """Merge a Snapshot from another process (usually a :meth:`drain`) into this
        profiler, exactly; returns the number of calls added.

        Counts, sums, extremes, mean and std merge exactly, percentile sketches
        merge, recent calls merge in start order; alerts see the new calls.
        Absorbing the same drain twice adds nothing. :meth:`sources` tells
        where absorbed calls came from.
        """
        if not isinstance(snapshot, Snapshot):
            raise TypeError(
                "absorb() takes a Snapshot (for example a worker's profiler.drain()), "
                f"got {type(snapshot).__name__} {snapshot!r}"
            )
        origin = snapshot.origin or {}
        drain_id = origin.get("drain_id")
        with self._registry_lock:
            if drain_id is not None:
                if drain_id in self._absorbed:
                    return 0
                self._absorbed.add(drain_id)
        source = _source_key(origin)
        added = 0
        touched = []
        for name in snapshot.get_all_operations():
            stats = snapshot.operation_stats(name)
            op = self._operation(name)
            with op.lock:
                op.absorb_stats(stats, snapshot.calls(name))
            touched.append(op)
            added += stats.call_count
            per_source = self._source_stats.setdefault(source, {})
            if name in per_source:
                per_source[name].merge(stats)
            else:
                per_source[name] = stats.copy()
        entry = self._sources.setdefault(
            source,
            {
                "host": origin.get("host"),
                "pid": origin.get("pid"),
                "worker": origin.get("worker"),
                "calls": 0,
            },
        )
        entry["calls"] += added
        for op in touched:
            self._notify(op)
        return added

    def sources(self) -> list[dict[str, Any]]:
        """Where absorbed calls came from: ``{"source", "host", "pid", "worker", "calls"}``."""
        return [{"source": key, **info} for key, info in self._sources.items()]

    def _notify(self, op: _Operation) -> None:
        for listener in list(op.listeners):
            try:
                listener(op.name)
            except Exception as err:
                warn_internal(f"notifying a listener of {op.name!r}", err)

    def _after_fork_in_child(self) -> None:
        self._registry_lock = threading.Lock()
        for op in list(self._operations.values()):
            op.after_fork()
        self._absorbed = set()
        self._sources = {}
        self._source_stats = {}

    # -- shortcuts to the views (in _views, above every reader; see _hooks) -----
    def to_dataframe(self, **options: Any) -> Any:
        """One row per operation, one column per statistic (a pandas DataFrame)."""
        return views().to_dataframe(self, **options)

    def history_dataframe(self, name: str | None = None, **options: Any) -> Any:
        """One row per recorded call (a pandas DataFrame).

        See :func:`wdbx_notebook.frames.history_dataframe` for the options.
        """
        return views().history_dataframe(self, name, **options)

    def report(self, format_type: str = "text") -> Any:
        """A :class:`~wdbx_notebook.report.PerformanceReport` of this profiler, right now."""
        return views().report(self, format_type)

    def explain(self, name: str) -> Any:
        """Why one operation is slow or varies (CPU vs waiting, GC, warm-up, a busy machine)."""
        return views().explain(self, name)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return views().mimebundle(self)

    def save(self, path: Any) -> Any:
        """Save every operation's aggregates and recent calls to a JSON session file.

        See :mod:`wdbx_notebook.persistence`.
        """
        return views().save(self, path)

    def compare_operations(self, a: str, b: str, **options: Any) -> Any:
        """Compare two operations of this profiler.

        See :func:`wdbx_notebook.compare.compare_operations`.
        """
        return views().compare_operations(self, a, b, **options)

    def add_alert(
        self,
        pattern: str,
        metric: str = "p95_duration_ms",
        above: float | None = None,
        below: float | None = None,
        callback: Callable[[str, str, float, float], Any] | None = None,
        baseline: Any = None,
        **options: Any,
    ) -> Any:
        """Watch operations whose names match a glob, now and later.

        When ``metric`` goes above ``above`` (or below ``below``), or, with
        ``baseline=`` (a saved session, a path or a profiler), when an
        operation turns "slower" against it, the profiler emits a
        :class:`~wdbx_notebook.PerformanceWarning`, calls
        ``callback(operation, metric, value, threshold)`` and, in a notebook,
        shows a banner once per crossing. See :func:`wdbx_notebook.alerts.add_alert`.

        >>> profiler = PerformanceProfiler()
        >>> rule = profiler.add_alert("vector_*", metric="p95_duration_ms", above=50.0)
        """
        return views().add_alert(self, pattern, metric, above, below, callback, baseline, **options)

    def list_alerts(self) -> Any:
        """The alert rules of this profiler; see :mod:`wdbx_notebook.alerts`."""
        return views().list_alerts(self)

    def remove_alert(self, rule: Any = None) -> Any:
        """Remove one alert rule (or all); see :mod:`wdbx_notebook.alerts`."""
        return views().remove_alert(self, rule)

    def __repr__(self) -> str:
        return self._title(len(self.get_all_operations()))

    def _title(self, operations: int) -> str:
        """The repr, given how many operations have calls (a view that has already
        counted them needs no second pass over every operation)."""
        state = "enabled" if self.enabled else "disabled"
        plural = "s" if operations != 1 else ""
        return f"<PerformanceProfiler {state}, {operations} operation{plural}>"


#: Tells this process's drains from those of an earlier process with the same pid.
_PROCESS_TOKEN = uuid.uuid4().hex[:12]

#: Numbers the drains of every profiler of this process (each drain id is unique).
_DRAINS = itertools.count(1)


def _source_key(origin: dict[str, Any]) -> str:
    if not origin:
        return "unknown"
    worker = origin.get("worker")
    base = f"{origin.get('host')}:{origin.get('pid')}"
    return f"{base} ({worker})" if worker else base


def _discard(items: list[Any], item: Any) -> None:
    with contextlib.suppress(ValueError):
        items.remove(item)


_shared_profiler: PerformanceProfiler | None = None
_shared_lock = threading.Lock()


def get_performance_profiler() -> PerformanceProfiler:
    """The one profiler shared by the decorator, the magics, the reports and the widgets.

    >>> get_performance_profiler() is get_performance_profiler()
    True
    """
    global _shared_profiler
    if _shared_profiler is None:
        with _shared_lock:
            if _shared_profiler is None:
                _shared_profiler = PerformanceProfiler()
    return _shared_profiler


def _after_fork_in_child() -> None:
    global _shared_lock, _PROCESS_TOKEN
    _shared_lock = threading.Lock()
    _PROCESS_TOKEN = uuid.uuid4().hex[:12]
    for profiler in list(_PROFILERS):
        profiler._after_fork_in_child()


# A forked child starts with empty profilers: no inherited calls, fresh locks
# (a lock another thread held at fork time would never be released there).
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# What a pickled wrapper's operation, pending lists, thresholds and enabled flag
# become in the process that unpickles them: those of its shared profiler.
def _shared_state() -> State:
    return get_performance_profiler()._state


def _shared_operation(name: str) -> _Operation:
    return get_performance_profiler()._operation(name)


def _shared_pending(name: str, kind: str) -> Any:
    return getattr(_shared_operation(name), kind)


def _shared_limit(name: str, kind: str) -> Any:
    return _shared_operation(name).limits[kind]


_operation.shared_profiler = get_performance_profiler
_operation.resolvers.update(
    state=_shared_state, operation=_shared_operation, pending=_shared_pending, limit=_shared_limit
)
