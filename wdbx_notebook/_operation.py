"""One named operation: pending call records, exact aggregates, the recent calls.

Wrappers ``extend`` a flat pending list with one tuple per call (a single
atomic list operation under the GIL, so threads take no lock). There is one
list per record layout (:data:`LAYOUTS`): time only, time + CPU, time +
memory, time + memory + CPU. Failures are rare and go to ``failed`` as tuples
with the exception type's name.

Pending records are folded into the aggregates (:class:`~.stats.OperationStats`)
and the recent calls in batches: when a list reaches its limit, and whenever
someone reads. A fold takes the lock, removes a prefix of each list (records
appended meanwhile wait for the next fold), turns it into numpy columns, sorts
the batch by start time and keeps it as one :class:`~._calls.CallColumns`
chunk of the recent calls. Readers take a consistent copy under the same lock
(:meth:`_Operation.capture`).
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable
from typing import Any

from . import _gc
from ._calls import LAYOUTS, CallColumns, remember_thread_name
from ._memory import UNKNOWN
from ._warnings import ProfilerInternalWarning
from .stats import OperationStats, OperationSummary

#: Pending calls per operation that trigger folding them into the aggregates.
FLUSH_EVERY = 4096

#: Set by :mod:`.profiler`: returns the process's shared profiler. An operation,
#: its pending lists and the enabled flag unpickle into that profiler (through
#: :data:`resolvers`), so a wrapper shipped to another process records there.
shared_profiler: Callable[[], Any] | None = None


def warn_internal(action: str, exc: BaseException) -> None:
    """Tell the user the profiler had trouble of its own, never raising into their code."""
    # A warnings filter set to "error" must not reach user code either.
    with contextlib.suppress(Exception):
        warnings.warn(
            f"wdbx_notebook: {action} failed ({type(exc).__name__}: {exc}); "
            "the profiled code was not affected",
            ProfilerInternalWarning,
            stacklevel=3,
        )


class State:
    """The enabled flag, shared by every wrapper of one profiler."""

    __slots__ = ("enabled",)

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __reduce__(self) -> tuple[Any, ...]:
        return (resolvers["state"], ())


class Pending(list):
    """A pending-records list that unpickles as the same list of the shared profiler."""

    __slots__ = ("kind", "operation")

    def __init__(self, operation: str, kind: str) -> None:
        super().__init__()
        self.operation = operation
        self.kind = kind

    def __reduce__(self) -> tuple[Any, ...]:
        return (resolvers["pending"], (self.operation, self.kind))


class Limit:
    """A pending list's flush threshold (in ints), as ``.value``.

    Wrappers read ``limit.value``, so a change reaches wrappers built earlier.
    (An attribute of a slotted class reads faster than an item of a list
    subclass, whose subscript the interpreter cannot specialise.)
    """

    __slots__ = ("kind", "operation", "value")

    def __init__(self, operation: str, kind: str, value: int) -> None:
        self.value = value
        self.operation = operation
        self.kind = kind

    def __reduce__(self) -> tuple[Any, ...]:
        return (resolvers["limit"], (self.operation, self.kind))


class _Limits(dict):
    """Pending list name -> its :class:`Limit`, made when a wrapper first asks for it
    (most operations use one layout; an idle operation stays small)."""

    __slots__ = ("every", "operation")

    def __init__(self, operation: str) -> None:
        super().__init__()
        self.operation = operation
        self.every = FLUSH_EVERY  # the operation's watch_every, for limits made later

    def __missing__(self, kind: str) -> Limit:
        limit = self[kind] = Limit(self.operation, kind, self.every * len(LAYOUTS[kind]))
        return limit


#: Set by :mod:`.profiler` on import: ``kind -> resolver`` of the same-named object
#: of the shared profiler ("state", "operation", "pending", "limit"). Pickles name
#: these functions of profiler.py, so unpickling imports it where it is needed
#: (a fresh worker process), and this module needs no import of the profiler.
resolvers: dict[str, Callable[..., Any]] = {}


class _Operation:
    """One named operation. See the module docstring."""

    __slots__ = (
        "chunks",
        "drain_chunks",
        "drain_stats",
        "failed",
        "gc_pauses",
        "history_limit",
        "limits",
        "listeners",
        "lock",
        "measured",
        "measured_cpu",
        "name",
        "rows",
        "stats",
        "summary_cache",
        "timed",
        "timed_cpu",
        "unfolded",
        "version",
        "wall_offset_ns",
        "watch_every",
    )

    def __init__(self, name: str, history_limit: int, wall_offset_ns: int) -> None:
        self.name = name
        # Never replaced, only cleared: wrappers hold their bound ``extend``.
        self.timed = Pending(name, "timed")
        self.timed_cpu = Pending(name, "timed_cpu")
        self.measured = Pending(name, "measured")
        self.measured_cpu = Pending(name, "measured_cpu")
        self.limits = _Limits(name)
        self.watch_every = FLUSH_EVERY
        self.failed: list[tuple[Any, ...]] = []
        # Batches a fold could not take (a bug or a broken clock), retried at each fold.
        self.unfolded: list[tuple[dict[str, list[int]], list[tuple[Any, ...]]]] = []
        self.lock = threading.Lock()
        self.stats = OperationStats()
        self.version = 0
        self.summary_cache: tuple[int, OperationSummary] | None = None
        self.history_limit = history_limit
        # The recent calls as CallColumns chunks, oldest fold first; trimmed so that
        # dropping the oldest chunk would leave fewer than ``history_limit`` calls.
        self.chunks: list[Any] = []
        self.rows = 0
        # Since the last drain (None until the first drain: a process that is never
        # drained pays nothing for it).
        self.drain_stats: OperationStats | None = None
        self.drain_chunks: list[Any] = []
        self.wall_offset_ns = wall_offset_ns
        # Recent GC pauses in this operation's clock; None when the clock is not the
        # one the GC recorder reads (a test's fake clock), so no pause is attributed.
        self.gc_pauses: Callable[[], Any] = _gc.pauses
        # Called as listener(operation_name) after each fold that added calls,
        # outside the lock (alerts use this).
        self.listeners: list[Callable[[str], None]] = []

    def __reduce__(self) -> tuple[Any, ...]:
        return (resolvers["operation"], (self.name,))

    # -- recording ---------------------------------------------------------
    def pending_lists(self) -> list[tuple[str, Pending]]:
        return [(kind, getattr(self, kind)) for kind in LAYOUTS]

    def set_flush_every(self, calls: int) -> None:
        """Fold after about ``calls`` pending successful calls (1 = every call)."""
        self.watch_every = max(1, min(int(calls), FLUSH_EVERY))
        self._reset_limits()

    def _reset_limits(self) -> None:
        self.limits.every = self.watch_every
        for kind, limit in self.limits.items():
            limit.value = self.watch_every * len(LAYOUTS[kind])

    def has_pending(self) -> bool:
        return bool(
            self.timed
            or self.timed_cpu
            or self.measured
            or self.measured_cpu
            or self.failed
            or self.unfolded
        )

    def record_failure(
        self,
        start: int,
        end: int,
        exc: BaseException,
        mem_before: int = UNKNOWN,
        mem_after: int = UNKNOWN,
        cpu_before: int = UNKNOWN,
        cpu_after: int = UNKNOWN,
    ) -> None:
        try:
            self.failed.append(
                (
                    start,
                    end,
                    threading.get_ident(),
                    mem_before,
                    mem_after,
                    cpu_before,
                    cpu_after,
                    type(exc).__name__,
                )
            )
            if len(self.failed) >= self.watch_every:
                self.flush(block=False)
        except Exception as err:
            warn_internal(f"recording a failed call of {self.name!r}", err)

    # -- folding -----------------------------------------------------------
    def flush(self, block: bool = True) -> None:
        """Fold pending records into the aggregates and the recent calls.

        A non-blocking flush that finds another thread folding raises this
        operation's thresholds by another batch, so recording threads do not
        retry on every call while the folding thread is off the CPU. With nothing
        pending it returns at once (a reader then takes the lock anyway, so a fold in
        progress completes before it reads).
        """
        if not self.has_pending():
            return
        if not self.lock.acquire(blocking=block):
            for kind, limit in self.limits.items():
                limit.value = len(getattr(self, kind)) + self.watch_every * len(LAYOUTS[kind])
            # This thread's calls may be folded only after it ends: name it while it runs.
            remember_thread_name()
            return
        added = False
        try:
            taken = {
                kind: _take_prefix(pending, len(LAYOUTS[kind]))
                for kind, pending in self.pending_lists()
            }
            failed = _take_prefix(self.failed, 1)
            self._reset_limits()
            retry, self.unfolded = self.unfolded, []
            for old_taken, old_failed in retry:
                for kind, records in old_taken.items():
                    taken[kind] = records + taken[kind]
                failed = old_failed + failed
            if any(taken.values()) or failed:
                try:
                    self._fold(taken, failed)
                    added = True
                except Exception as err:
                    # Keep the calls and try again at the next fold: none is lost.
                    self.unfolded.append((taken, failed))
                    warn_internal(f"aggregating calls of {self.name!r}", err)
        finally:
            self.lock.release()
        if added and self.listeners:
            for listener in list(self.listeners):
                try:
                    listener(self.name)
                except Exception as err:
                    warn_internal(f"notifying a listener of {self.name!r}", err)

    def _fold(self, taken: dict[str, list[int]], failed: list[tuple[Any, ...]]) -> None:
        """Fold one batch (the caller holds the lock); never loses a call."""
        try:
            batch = CallColumns.from_records(taken, failed, self.wall_offset_ns, self.gc_pauses())
        except Exception as err:
            # Typically a clock reading beyond int64: keep every call, exactly, in
            # Python integers (slower, but nothing is dropped).
            warn_internal(f"folding calls of {self.name!r} with numpy", err)
            batch = CallColumns.from_records(
                taken, failed, self.wall_offset_ns, None, exact_python=True
            )
        self.absorb_batch(batch)

    def absorb_batch(self, batch: Any) -> None:
        """Fold a :class:`~._calls.CallColumns` batch (the caller holds the lock)."""
        fold_into(self.stats, batch)
        if self.drain_stats is not None:
            fold_into(self.drain_stats, batch)
            self.drain_chunks.append(batch)
            _trim(self.drain_chunks, self.history_limit)
        self.version += 1
        if self.history_limit > 0:
            self.chunks.append(batch)
            self.rows += len(batch)
            while self.chunks and self.rows - len(self.chunks[0]) >= self.history_limit:
                self.rows -= len(self.chunks.pop(0))

    def absorb_stats(self, stats: OperationStats, calls: Any) -> None:
        """Merge another process's aggregates and recent calls (caller holds the lock)."""
        self.stats.merge(stats)
        if self.drain_stats is not None:
            self.drain_stats.merge(stats)
            self.drain_chunks.append(calls)
            _trim(self.drain_chunks, self.history_limit)
        self.version += 1
        if self.history_limit > 0 and len(calls):
            self.chunks.append(calls)
            self.rows += len(calls)
            while self.chunks and self.rows - len(self.chunks[0]) >= self.history_limit:
                self.rows -= len(self.chunks.pop(0))

    # -- reading -----------------------------------------------------------
    def capture(
        self, drain: bool = False
    ) -> tuple[OperationStats, tuple[Any, ...], OperationSummary | None, int]:
        """A consistent copy: ``(aggregates, recent-call chunks, cached summary or None,
        version)``.

        With ``drain``, the copy covers the calls since the previous drain (all
        calls the first time) and the drain starts afresh in the same step, so
        a call lands in exactly one drain.
        """
        self.flush()
        with self.lock:
            if drain:
                if self.drain_stats is None:
                    stats, chunks = self.stats.copy(), tuple(self.chunks)
                else:
                    stats, chunks = self.drain_stats, tuple(self.drain_chunks)
                self.drain_stats = OperationStats()
                self.drain_chunks = []
                return stats, chunks, None, self.version
            cached = self.summary_cache
            summary = cached[1] if cached is not None and cached[0] == self.version else None
            return self.stats.copy(), tuple(self.chunks), summary, self.version

    def offer_summary(self, version: int, summary: OperationSummary) -> None:
        """Keep a summary computed elsewhere (a snapshot) if no call came in since."""
        with self.lock:
            if self.version == version:
                self.summary_cache = (version, summary)

    def summary(self) -> OperationSummary:
        """This operation's summary now, computed once per version of the aggregates."""
        if not self.has_pending():
            # The common case of a view over many operations: nothing new since the last
            # summary. The cache entry names its version, and both are replaced together
            # under the lock, so a match read without it is still a consistent pair.
            cached = self.summary_cache
            if cached is not None and cached[0] == self.version:
                return cached[1]
        self.flush()
        with self.lock:
            cached = self.summary_cache
            if cached is not None and cached[0] == self.version:
                return cached[1]
            summary = self.stats.summary()
            self.summary_cache = (self.version, summary)
            return summary

    def call_count(self) -> int:
        if self.has_pending():
            self.flush()
        return self.stats.call_count

    def reset(self) -> None:
        """Forget every call (a drain in progress starts afresh too)."""
        with self.lock:
            self._clear(keep_drain=self.drain_stats is not None)

    def after_fork(self) -> None:
        """In a forked child: a fresh lock and no calls of the parent's."""
        self.lock = threading.Lock()
        self._clear(keep_drain=False)
        self._reset_limits()

    def _clear(self, keep_drain: bool) -> None:
        for _, pending in self.pending_lists():
            pending.clear()
        self.failed.clear()
        self.unfolded = []
        self.stats = OperationStats()
        self.chunks.clear()
        self.rows = 0
        self.drain_stats = OperationStats() if keep_drain else None
        self.drain_chunks = []
        self.version += 1
        self.summary_cache = None


def fold_into(stats: OperationStats, batch: Any) -> None:
    """Fold a batch of calls (:class:`~._calls.CallColumns`) into aggregates."""
    if batch.all_succeeded():
        stats.add_successes(
            batch.start_ns,
            batch.end_ns,
            batch.mem_before,
            batch.mem_after,
            0,
            batch.cpu_ns,
            batch.gc_ns,
        )
        return
    ok = batch.success
    done = batch.take(ok)
    stats.add_successes(
        done.start_ns, done.end_ns, done.mem_before, done.mem_after, 0, done.cpu_ns, done.gc_ns
    )
    bad = batch.take(~ok)
    stats.add_failures(
        bad.start_ns, bad.end_ns, bad.mem_before, bad.mem_after, bad.error.tolist(), 0
    )


def _trim(chunks: list[Any], limit: int) -> None:
    rows = sum(len(c) for c in chunks)
    while chunks and rows - len(chunks[0]) >= limit:
        rows -= len(chunks.pop(0))


def _take_prefix(pending: list[Any], width: int) -> list[Any]:
    """Remove and return the whole records at the front of a pending list."""
    n = len(pending)
    n -= n % width
    if not n:
        return []
    taken = pending[:n]
    del pending[:n]
    return taken
