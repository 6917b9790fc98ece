"""The profiler: a registry of operations and the hot path that feeds them.

Each call of a profiled function or block appends one small tuple to its
operation's pending list (an atomic ``list.append`` under the GIL, so threads
need no lock). Pending records are folded into exact aggregates
(:class:`~wdbx_notebook.stats.OperationStats`) in batches: when a list reaches
:data:`FLUSH_EVERY` records, and whenever someone reads statistics. The
per-call history is a bounded deque of the most recent records.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import threading
import warnings
from collections import deque
from collections.abc import Callable
from typing import Any, Literal, TypeVar, overload

from . import _clock, _memory
from ._memory import UNKNOWN
from ._warnings import ProfilerInternalWarning
from ._wrappers import async_wrapper, sync_wrapper
from .stats import OperationStats

get_ident = threading.get_ident

F = TypeVar("F", bound=Callable[..., Any])
TrackMemory = bool | Literal["rss", "tracemalloc"] | None

#: Pending records per operation that trigger folding them into the aggregates.
FLUSH_EVERY = 4096

#: Per-call records kept per operation by default (the statistics are unbounded).
DEFAULT_HISTORY_LIMIT = 10_000

_NS_PER_S = 1_000_000_000


class UnknownOperationError(KeyError):
    """No operation of that name has been profiled."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


def unknown_operation(
    name: str, known: list[str], problem: str, when_empty: str
) -> UnknownOperationError:
    """The error for an unknown name, suggesting the closest known names."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    elif known:
        hint = f"known operations: {', '.join(repr(k) for k in sorted(known)[:10])}"
    else:
        hint = when_empty
    return UnknownOperationError(f"{problem} {name!r}; {hint}")


def _check_name(name: object, what: str = "operation name") -> str:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a non-empty str, got {type(name).__name__} {name!r}")
    if not name.strip():
        raise ValueError(f"{what} must be a non-empty str, got {name!r}")
    return name


def _warn_internal(action: str, exc: BaseException) -> None:
    # A warnings filter set to "error" must not reach user code either.
    with contextlib.suppress(Exception):
        warnings.warn(
            f"wdbx_notebook: {action} failed ({type(exc).__name__}: {exc}); "
            "the profiled code was not affected",
            ProfilerInternalWarning,
            stacklevel=3,
        )


class _State:
    """The enabled flag, shared by every wrapper of one profiler."""

    __slots__ = ("enabled",)

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled


class _Operation:
    """One named operation: pending records, exact aggregates, recent history.

    Pending records are flat lists that wrappers ``extend`` with one tuple per
    call (a single atomic list operation under the GIL): ``timed`` holds
    ``start, end, thread`` triples, ``measured`` holds ``start, end, thread,
    mem_before, mem_after`` quintuples. Flat lists turn into numpy columns in
    one pass at flush time. Failures are rare and go to ``failed`` as tuples
    with the exception type's name.
    """

    __slots__ = (
        "_stats_cache",
        "failed",
        "failure_history",
        "flush_limit",
        "history",
        "history_limit",
        "history_rows",
        "listeners",
        "lock",
        "measured",
        "name",
        "stats",
        "timed",
        "wall_offset_ns",
    )

    def __init__(self, name: str, history_limit: int, wall_offset_ns: int) -> None:
        self.name = name
        # Never replaced, only cleared: wrappers hold their bound ``extend``.
        self.timed: list[int] = []
        self.measured: list[int] = []
        self.failed: list[tuple[Any, ...]] = []
        self.lock = threading.Lock()
        self.stats = OperationStats()
        self.history_limit = history_limit
        # Successful calls as (rows, 3 or 5) int64 chunks, oldest first, trimmed to the limit.
        self.history: deque[Any] = deque()
        self.history_rows = 0
        self.failure_history: deque[tuple[Any, ...]] = deque(maxlen=history_limit)
        self.wall_offset_ns = wall_offset_ns
        self._stats_cache: dict[str, Any] | None = None
        # Pending list length (in ints) that makes the recording thread flush;
        # a one-item list so wrappers see changes made after they were built.
        self.flush_limit = [5 * FLUSH_EVERY]
        # Called as listener(operation_name) after each flush that added calls,
        # outside the lock (alerts use this).
        self.listeners: list[Callable[[str], None]] = []

    def set_flush_every(self, calls: int) -> None:
        """Flush after about ``calls`` pending successful calls (1 = every call)."""
        self.flush_limit[0] = max(1, min(int(calls), FLUSH_EVERY)) * 3

    def has_pending(self) -> bool:
        return bool(self.timed or self.measured or self.failed)

    def record_failure(
        self, start: int, end: int, mem_before: int, mem_after: int, exc: BaseException
    ) -> None:
        try:
            self.failed.append(
                (start, end, threading.get_ident(), mem_before, mem_after, type(exc).__name__)
            )
            if len(self.failed) * 3 >= self.flush_limit[0]:  # the limit counts ints, 3 a call
                self.flush(block=False)
        except Exception as err:
            _warn_internal(f"recording a failed call of {self.name!r}", err)

    def flush(self, block: bool = True) -> None:
        """Fold pending records into the aggregates and the history.

        Producers only append; the one flusher holding the lock removes a
        prefix, so records appended meanwhile wait for the next flush.
        """
        if not self.lock.acquire(blocking=block):
            return  # another thread is flushing right now
        added = False
        try:
            timed = _take_prefix(self.timed, 3)
            measured = _take_prefix(self.measured, 5)
            failed = _take_prefix(self.failed, 1)
            if not (timed or measured or failed):
                return
            added = True
            import numpy as np

            offset = self.wall_offset_ns
            stats = self.stats
            for flat, width in ((timed, 3), (measured, 5)):
                if not flat:
                    continue
                rows = np.fromiter(flat, dtype=np.int64, count=len(flat)).reshape(-1, width)
                if width == 3:
                    stats.add_successes(rows[:, 0], rows[:, 1], None, None, offset)
                else:
                    stats.add_successes(rows[:, 0], rows[:, 1], rows[:, 3], rows[:, 4], offset)
                self._remember(rows)
            if failed:
                columns = np.array([r[:5] for r in failed], dtype=np.int64)
                stats.add_failures(
                    columns[:, 0],
                    columns[:, 1],
                    columns[:, 3],
                    columns[:, 4],
                    [r[5] for r in failed],
                    offset,
                )
                names = self._thread_names_of(columns[:, 2])
                self.failure_history.extend((record, names[record[2]]) for record in failed)
            self._stats_cache = None
        except Exception as err:
            _warn_internal(f"aggregating calls of {self.name!r}", err)
        finally:
            self.lock.release()
        if added and self.listeners:
            for listener in list(self.listeners):
                try:
                    listener(self.name)
                except Exception as err:
                    _warn_internal(f"notifying a listener of {self.name!r}", err)

    def _remember(self, rows: Any) -> None:
        names = self._thread_names_of(rows[:, 2])
        if self.history_limit <= 0:
            return
        self.history.append((rows, names))
        self.history_rows += len(rows)
        while self.history_rows - len(self.history[0][0]) >= self.history_limit:
            self.history_rows -= len(self.history.popleft()[0])

    def _thread_names_of(self, idents: Any) -> dict[int, str]:
        """The name of each thread in a batch, as known now.

        Resolved at flush time, while most threads still run, and kept with the
        batch: thread ids are reused once a thread ends, so a later lookup
        could name the wrong thread.
        """
        import numpy as np

        first = int(idents[0])
        # Usually one thread made the whole batch: skip sorting the ids then.
        unique = [first] if (idents == first).all() else np.unique(idents).tolist()
        names = {}
        for ident in unique:
            thread = threading._active.get(ident)  # type: ignore[attr-defined]
            if thread is not None:
                _LAST_THREAD_NAMES[ident] = names[ident] = thread.name
            else:  # ended before this flush: its name as last seen, if ever
                names[ident] = _LAST_THREAD_NAMES.get(ident, f"thread-{ident}")
        return names

    def recent_records(self, with_thread_names: bool = False) -> list[tuple[Any, ...]]:
        """The last ``history_limit`` calls, oldest first, as tuples
        ``(start_ns, end_ns, thread_ident, mem_before, mem_after, error_or_None)``,
        with the thread's name appended when ``with_thread_names``."""
        self.flush()
        with self.lock:
            chunks = list(self.history)
            failures = list(self.failure_history)
        records: list[tuple[Any, ...]] = []
        for rows, names in chunks:
            tail = (None,) if rows.shape[1] == 5 else (UNKNOWN, UNKNOWN, None)
            if with_thread_names:
                records.extend((*row, *tail, names[row[2]]) for row in rows.tolist())
            else:
                records.extend(tuple(row) + tail for row in rows.tolist())
        if failures:
            records.extend((*r, name) if with_thread_names else r for r, name in failures)
            records.sort(key=lambda r: r[0])
        return records[-self.history_limit :] if self.history_limit > 0 else []

    def recent_successes(self) -> tuple[Any, Any]:
        """``(starts, durations)`` in clock ns of the successful calls among the
        last ``history_limit`` calls, oldest first (the successes of
        :meth:`recent_records`, as numpy arrays)."""
        self.flush()
        with self.lock:
            return self.recent_successes_locked()

    def recent_successes_locked(self) -> tuple[Any, Any]:
        """:meth:`recent_successes` for a caller that already holds ``lock``."""
        import numpy as np

        empty = np.empty(0, dtype=np.int64)
        limit = self.history_limit
        if limit <= 0:
            return empty, empty
        starts = np.concatenate([empty] + [rows[:, 0] for rows, _ in self.history])
        durations = np.concatenate([empty] + [rows[:, 1] - rows[:, 0] for rows, _ in self.history])
        if not self.failure_history:
            return starts[-limit:], durations[-limit:]
        # Failures share the window of the last ``limit`` calls, ordered by start.
        failed_starts = np.array([record[0] for record, _ in self.failure_history], dtype=np.int64)
        order = np.argsort(np.concatenate([starts, failed_starts]), kind="stable")
        window = order[-limit:]
        kept = window[window < len(starts)]
        return starts[kept], durations[kept]

    def summary(self) -> dict[str, Any]:
        self.flush()
        with self.lock:
            if self._stats_cache is None:
                self._stats_cache = self.stats.summary()
            cached = self._stats_cache
        return dict(cached, errors_by_type=dict(cached["errors_by_type"]))

    def reset(self) -> None:
        with self.lock:
            self.timed.clear()
            self.measured.clear()
            self.failed.clear()
            self.stats = OperationStats()
            self.history.clear()
            self.history_rows = 0
            self.failure_history.clear()
            self._stats_cache = None


def _take_prefix(pending: list[Any], width: int) -> list[Any]:
    """Remove and return the whole records at the front of a pending list."""
    n = len(pending)
    n -= n % width
    if not n:
        return []
    taken = pending[:n]
    del pending[:n]
    return taken


#: The last name seen for each thread id, for calls of threads that ended
#: before their calls were flushed.
_LAST_THREAD_NAMES: dict[int, str] = {}


class ProfileBlock:
    """A timed block: ``with profiler.profile_block("name"):`` or ``async with``.

    After the block, ``duration_ms`` and ``memory_delta`` (bytes, or ``None``
    when memory was not measured) hold this run's figures.
    """

    __slots__ = ("_clock", "_end", "_mem_after", "_mem_before", "_op", "_probe", "_start", "_state")

    def __init__(
        self, op: _Operation, clock: _clock.Clock, probe: _memory.MemoryProbe | None, state: _State
    ) -> None:
        self._op = op
        self._clock = clock
        self._probe = probe
        self._state = state
        self._start: int | None = None
        self._end: int | None = None
        self._mem_before = UNKNOWN
        self._mem_after = UNKNOWN

    def __enter__(self) -> ProfileBlock:
        if not self._state.enabled:
            self._start = None
            return self
        if self._probe is not None:
            self._mem_before = self._probe()
        self._start = self._clock()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        start = self._start
        if start is None:
            return False
        self._end = end = self._clock()
        op = self._op
        if self._probe is not None:
            self._mem_after = after = self._probe()
            if exc is None:
                op.measured.extend((start, end, get_ident(), self._mem_before, after))
        elif exc is None:
            op.timed.extend((start, end, get_ident()))
        if exc is not None:
            op.record_failure(start, end, self._mem_before, self._mem_after, exc)
        elif len(op.timed) + len(op.measured) >= op.flush_limit[0]:
            op.flush(block=False)
        return False

    async def __aenter__(self) -> ProfileBlock:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        return self.__exit__(exc_type, exc, tb)

    @property
    def duration_ms(self) -> float | None:
        """This run's duration in milliseconds, once the block has ended."""
        if self._start is None or self._end is None:
            return None
        return (self._end - self._start) / 1e6

    @property
    def memory_delta(self) -> int | None:
        """This run's change of memory in bytes, or ``None`` when not measured."""
        if self._mem_before == UNKNOWN or self._mem_after == UNKNOWN:
            return None
        return self._mem_after - self._mem_before


class PerformanceProfiler:
    """Records the duration, memory delta and outcome of named operations.

    Feed it with :meth:`profile` (a decorator), :meth:`profile_block` (a
    context manager) or the ``%%wdbx_profile`` cell magic; read it with
    :meth:`get_statistics`, :meth:`get_all_operations` and the reports.

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
        history_limit: per-call records kept per operation (most recent).
        clock: a zero-argument callable returning monotonic nanoseconds.
        enabled: start enabled (the default) or disabled.
    """

    def __init__(
        self,
        *,
        track_memory: TrackMemory = True,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
        clock: _clock.Clock | None = None,
        enabled: bool = True,
    ) -> None:
        self._default_memory = self._check_track_memory(track_memory, allow_none=False)
        if (
            not isinstance(history_limit, int)
            or isinstance(history_limit, bool)
            or history_limit < 0
        ):
            raise ValueError(f"history_limit must be an int >= 0, got {history_limit!r}")
        if clock is not None and not callable(clock):
            raise TypeError(f"clock must be a callable returning nanoseconds, got {clock!r}")
        self.history_limit = history_limit
        self._clock: _clock.Clock = clock if clock is not None else _clock.now_ns
        # Records hold monotonic readings; this offset puts them on the wall clock.
        self._wall_offset_ns = _clock.wall_ns() - self._clock()
        self._operations: dict[str, _Operation] = {}
        self._registry_lock = threading.Lock()
        self._state = _State(bool(enabled))
        # Called as hook(operation) when an operation is first created (alerts
        # use this to watch operations that match a pattern later).
        self._new_operation_hooks: list[Callable[[_Operation], None]] = []

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

    def _probe_for(self, track_memory: TrackMemory) -> _memory.MemoryProbe | None:
        mode = self._default_memory if track_memory is None else track_memory
        if mode is False:
            return None
        if mode == "tracemalloc":
            return _memory.tracemalloc_probe()
        return _memory.rss_probe()

    def _operation(self, name: str) -> _Operation:
        op = self._operations.get(name)
        if op is None:
            with self._registry_lock:
                op = self._operations.get(name)
                created = op is None
                if op is None:
                    op = _Operation(name, self.history_limit, self._wall_offset_ns)
                    self._operations[name] = op
            if created:
                for hook in list(self._new_operation_hooks):
                    try:
                        hook(op)
                    except Exception as err:
                        _warn_internal(f"watching the new operation {name!r}", err)
        return op

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
    def profile(self, name: F, *, track_memory: TrackMemory = None) -> F: ...
    @overload
    def profile(
        self, name: str | None = None, *, track_memory: TrackMemory = None
    ) -> Callable[[F], F]: ...

    def profile(self, name: Any = None, *, track_memory: TrackMemory = None) -> Any:
        """Decorator that records every call of a function under an operation name.

        Use as ``@profiler.profile``, ``@profiler.profile("name")`` or
        ``@profiler.profile(name="name", track_memory=False)``. Without a name,
        the operation is named after the function's qualified name. Works on
        plain functions, methods and ``async def`` functions (whose duration
        covers the whole await).

        >>> profiler = PerformanceProfiler()
        >>> @profiler.profile
        ... def load():
        ...     return 1
        >>> load(); profiler.get_all_operations()
        1
        ['load']
        """
        track_memory = self._check_track_memory(track_memory)
        if callable(name):
            return self._wrap(name, name.__qualname__, track_memory)
        if name is not None:
            _check_name(name)

        def decorator(func: F) -> F:
            if not callable(func):
                hint = ""
                if isinstance(func, (classmethod, staticmethod)):
                    hint = f"; put @profile below @{type(func).__name__}, next to the function"
                raise TypeError(
                    "profile() decorates a function or other callable, "
                    f"got {type(func).__name__} {func!r}{hint}"
                )
            op_name = (
                name if name is not None else getattr(func, "__qualname__", None) or repr(func)
            )
            return self._wrap(func, op_name, track_memory)

        return decorator

    def _wrap(self, func: Any, name: str, track_memory: TrackMemory) -> Any:
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
        if inspect.iscoroutinefunction(func):
            wrapper = async_wrapper(func, op, self._clock, probe, self._state)
        else:
            wrapper = sync_wrapper(func, op, self._clock, probe, self._state)
        wrapper.__wdbx_operation__ = name  # type: ignore[attr-defined]
        return wrapper

    def profile_block(self, name: str, *, track_memory: TrackMemory = None) -> ProfileBlock:
        """Context manager that records one run of a block under ``name``.

        Works with ``with`` and ``async with``; the returned block exposes
        ``duration_ms`` and ``memory_delta`` after it ends.

        >>> profiler = PerformanceProfiler()
        >>> with profiler.profile_block("setup") as block:
        ...     data = list(range(1000))
        >>> block.duration_ms >= 0
        True
        """
        _check_name(name)
        track_memory = self._check_track_memory(track_memory)
        return ProfileBlock(
            self._operation(name), self._clock, self._probe_for(track_memory), self._state
        )

    # -- reading -----------------------------------------------------------
    def _known(self, name: object) -> _Operation:
        _check_name(name)
        op = self._operations.get(name)  # type: ignore[call-overload]
        if op is None:
            raise unknown_operation(
                str(name),
                list(self._operations),
                "no profiled operation named",
                "nothing has been profiled yet",
            )
        return op

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
        (seconds since the epoch), ``errors_by_type`` and
        ``percentiles_exact``.

        Raises:
            KeyError: no operation has that name; the message suggests close names.
        """
        return self._known(name).summary()

    def get_all_operations(self) -> list[str]:
        """Names of the operations with at least one recorded call, in order of first use."""
        names = []
        for name, op in list(self._operations.items()):
            if op.has_pending():
                op.flush()
            if op.stats.call_count:
                names.append(name)
        return names

    def get_all_statistics(self) -> dict[str, dict[str, Any]]:
        """``{name: get_statistics(name)}`` for every operation with calls."""
        return {name: self._operations[name].summary() for name in self.get_all_operations()}

    def operation_stats(self, name: str) -> OperationStats:
        """A copy of one operation's raw aggregates (for saving and merging)."""
        op = self._known(name)
        op.flush()
        with op.lock:
            return op.stats.copy()

    def get_call_history(self, name: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Per-call records of the most recent ``history_limit`` calls per operation.

        Each record: ``timestamp`` (start, seconds since the epoch),
        ``duration_ms``, ``memory_delta`` (bytes or ``None``), ``success``,
        ``error`` (exception type name or ``None``) and ``thread`` (its name).
        """
        names = [self._known(name).name] if name is not None else self.get_all_operations()
        return {
            op_name: [
                _record_dict(r, self._wall_offset_ns)
                for r in self._operations[op_name].recent_records(with_thread_names=True)
            ]
            for op_name in names
        }

    def history_records(self, name: str, with_thread_names: bool = False) -> list[tuple[Any, ...]]:
        """Raw recent calls ``(start_ns, end_ns, thread, mem_before, mem_after, error)``.

        Times are readings of the profiler's clock (add :attr:`wall_offset_ns`
        for the wall clock); ``thread`` is the thread's id; memory is -1 where
        unknown; error is ``None`` for a successful call. ``with_thread_names``
        appends the thread's name to each tuple. Cheaper than
        :meth:`get_call_history` for plots.
        """
        return self._known(name).recent_records(with_thread_names)

    def recent_durations_ns(self, name: str) -> Any:
        """Durations (ns, a numpy array) of the recent successful calls, oldest first.

        The same as a saved session's :meth:`~wdbx_notebook.Snapshot.recent_durations_ns`:
        comparisons, trends and saving read both alike.
        """
        return self._known(name).recent_successes()[1]

    def recent_starts_ns(self, name: str) -> Any:
        """Start times (ns since the epoch) of the recent successful calls, oldest first."""
        return self._known(name).recent_successes()[0] + self._wall_offset_ns

    @property
    def wall_offset_ns(self) -> int:
        """Add to a clock reading to get nanoseconds since the epoch."""
        return self._wall_offset_ns

    def reset_statistics(self, name: str | None = None) -> None:
        """Forget the recorded calls of one operation, or of all when ``name`` is None.

        Decorated functions keep working and record afresh.
        """
        if name is None:
            for op in list(self._operations.values()):
                op.reset()
        else:
            self._known(name).reset()

    # -- views (each imports its heavy dependency only when used) ----------------
    def to_dataframe(self) -> Any:
        """One row per operation, one column per statistic (a pandas DataFrame)."""
        from .frames import statistics_dataframe

        return statistics_dataframe(self)

    def history_dataframe(self, name: str | None = None, **options: Any) -> Any:
        """One row per recorded call (a pandas DataFrame).

        See :func:`wdbx_notebook.frames.history_dataframe` for the options.
        """
        from .frames import history_dataframe

        return history_dataframe(self, name, **options)

    def report(self, format_type: str = "text") -> Any:
        """A :class:`~wdbx_notebook.report.PerformanceReport` of this profiler, right now."""
        from .report import PerformanceReport

        return PerformanceReport(self, format_type)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from .jupyter.display import profiler_bundle

        return profiler_bundle(self)

    # -- trends: saving, comparing, alerting -------------------------------------
    def save(self, path: Any) -> Any:
        """Save every operation's aggregates to a JSON session file.

        See :mod:`wdbx_notebook.persistence`.
        """
        from .persistence import save_session

        return save_session(self, path)

    def snapshot(self) -> Any:
        """A read-only snapshot of the statistics now (:mod:`wdbx_notebook.persistence`)."""
        from .persistence import snapshot

        return snapshot(self)

    def compare_operations(self, a: str, b: str, **options: Any) -> Any:
        """Compare two operations of this profiler.

        See :func:`wdbx_notebook.compare.compare_operations`.
        """
        from .compare import compare_operations

        return compare_operations(self, a, b, **options)

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
        from .alerts import add_alert

        return add_alert(self, pattern, metric, above, below, callback, baseline, **options)

    def list_alerts(self) -> Any:
        """The alert rules of this profiler; see :mod:`wdbx_notebook.alerts`."""
        from .alerts import list_alerts

        return list_alerts(self)

    def remove_alert(self, rule: Any = None) -> Any:
        """Remove one alert rule (or all); see :mod:`wdbx_notebook.alerts`."""
        from .alerts import remove_alert

        return remove_alert(self, rule)

    def __repr__(self) -> str:
        ops = self.get_all_operations()
        state = "enabled" if self.enabled else "disabled"
        return f"<PerformanceProfiler {state}, {len(ops)} operation{'s' if len(ops) != 1 else ''}>"


def _record_dict(record: tuple[Any, ...], wall_offset_ns: int) -> dict[str, Any]:
    start, end, _ident, before, after, error, thread = record
    return {
        "timestamp": (start + wall_offset_ns) / _NS_PER_S,
        "duration_ms": (end - start) / 1e6,
        "memory_delta": None if before == UNKNOWN or after == UNKNOWN else after - before,
        "success": error is None,
        "error": error,
        "thread": thread,
    }


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
