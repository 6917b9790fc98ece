"""The read model: a :class:`Snapshot` of operations' statistics and recent calls.

Everything that reads profiling data reads a Snapshot: the live profiler's
(:meth:`~wdbx_notebook.PerformanceProfiler.snapshot`), a saved session's
(:func:`~wdbx_notebook.load_session`), a merge of several processes' (``a + b``)
and a worker's drain (:meth:`~wdbx_notebook.PerformanceProfiler.drain`) are all
the same kind of object, so a view never asks which one it has.
:func:`as_snapshot` turns whatever a view was given into one.

>>> from wdbx_notebook import PerformanceProfiler
>>> profiler = PerformanceProfiler(track_memory=False)
>>> with profiler.profile_block("step"):
...     pass
>>> snap = profiler.snapshot()
>>> snap.summary("step").call_count, len(snap.calls("step"))
(1, 1)
>>> (snap + snap).get_statistics("step")["call_count"]
2
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from . import _operation
from ._calls import CallColumns
from ._hooks import views
from .stats import OperationStats, OperationSummary

__all__ = ["CallColumns", "Snapshot", "UnknownOperationError", "as_snapshot", "merge"]


class UnknownOperationError(KeyError):
    """No operation of that name has been profiled."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


def unknown_operation(
    name: str, known: list[str], problem: str, when_empty: str
) -> UnknownOperationError:
    """The error for an unknown name, suggesting the closest known names."""
    import difflib

    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    elif known:
        hint = f"known operations: {', '.join(repr(k) for k in sorted(known)[:10])}"
    else:
        hint = when_empty
    return UnknownOperationError(f"{problem} {name!r}; {hint}")


class Snapshot:
    """A read-only picture of operations' statistics and recent calls.

    Attributes:
        saved_at: seconds since the epoch when the statistics were taken.
        environment: machine and package facts of the process that took them
            (for a merge, of the first part; ``parts`` lists every part's).
        path: the file it was loaded from, or ``None``.
        schema_version: the schema of the file it was loaded from.
        history_limit: the most recent calls kept per operation.
        parts: ``{"saved_at", "environment", "path"}`` of every run merged in.
        origin: for a drain, ``{"host", "pid", "worker", "drain_id"}``; else ``None``.
        sources: where absorbed calls came from: source key ->
            ``{"host", "pid", "worker", "calls"}`` (empty for a single process).
    """

    __slots__ = (
        "_calls",
        "_chunks",
        "_source_stats",
        "_stats",
        "_summaries",
        "_summary_sinks",
        "environment",
        "history_limit",
        "origin",
        "parts",
        "path",
        "saved_at",
        "schema_version",
        "sources",
    )

    _stats: dict[str, OperationStats]
    _chunks: dict[str, tuple[CallColumns, ...]]
    _calls: dict[str, CallColumns]
    _summaries: dict[str, OperationSummary]
    _summary_sinks: dict[str, Callable[[OperationSummary], None]]
    _source_stats: dict[str, dict[str, OperationStats]]
    environment: dict[str, Any]
    history_limit: int
    origin: dict[str, Any] | None
    parts: list[dict[str, Any]]
    path: str | None
    saved_at: float
    schema_version: int
    sources: dict[str, dict[str, Any]]

    def __init__(
        self,
        operations: dict[str, OperationStats],
        calls: Mapping[str, CallColumns | Iterable[CallColumns]] | None = None,
        *,
        summaries: dict[str, OperationSummary] | None = None,
        summary_sinks: dict[str, Callable[[OperationSummary], None]] | None = None,
        saved_at: float | None = None,
        environment: dict[str, Any] | None = None,
        history_limit: int = 10_000,
        path: str | None = None,
        schema_version: int = 1,
        parts: list[dict[str, Any]] | None = None,
        origin: dict[str, Any] | None = None,
        sources: dict[str, dict[str, Any]] | None = None,
        source_stats: dict[str, dict[str, OperationStats]] | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "_stats", dict(operations))
        chunks: dict[str, tuple[CallColumns, ...]] = {}
        for name, value in (calls or {}).items():
            chunks[name] = (value,) if isinstance(value, CallColumns) else tuple(value)
        set_(self, "_chunks", chunks)
        set_(self, "_calls", {})
        set_(self, "_summaries", dict(summaries or {}))
        # Where a summary computed here is handed back (the live operation's cache).
        set_(self, "_summary_sinks", dict(summary_sinks or {}))
        set_(self, "saved_at", time.time() if saved_at is None else float(saved_at))
        set_(self, "environment", dict(environment or {}))
        set_(self, "history_limit", int(history_limit))
        set_(self, "path", path)
        set_(self, "schema_version", int(schema_version))
        default_parts = [{"saved_at": self.saved_at, "environment": self.environment, "path": path}]
        set_(self, "parts", list(parts) if parts is not None else default_parts)
        set_(self, "origin", dict(origin) if origin else None)
        set_(self, "sources", {key: dict(value) for key, value in (sources or {}).items()})
        set_(self, "_source_stats", dict(source_stats or {}))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a Snapshot is read-only; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a Snapshot is read-only; cannot delete {name!r}")

    # -- reading ---------------------------------------------------------------
    def get_all_operations(self) -> list[str]:
        """Names of the operations with at least one call, in order of first use."""
        return [name for name, stats in self._stats.items() if stats.call_count]

    def _known(self, name: object) -> OperationStats:
        if not isinstance(name, str):
            raise TypeError(f"operation name must be a str, got {type(name).__name__} {name!r}")
        stats = self._stats.get(name)
        if stats is None:  # (an operation taken by name may have zero calls: it was reset)
            raise unknown_operation(
                name,
                self.get_all_operations(),
                "no profiled operation named",
                "nothing has been profiled yet",
            )
        return stats

    def summary(self, name: str) -> OperationSummary:
        """The typed statistics of one operation (computed once per snapshot)."""
        stats = self._known(name)
        summary = self._summaries.get(name)
        if summary is None:
            summary = self._summaries[name] = stats.summary()
            sink = self._summary_sinks.pop(name, None)
            if sink is not None:
                sink(summary)
        return summary

    def summaries(self, names: Iterable[str] | None = None) -> dict[str, OperationSummary]:
        """``{name: summary(name)}`` for ``names`` (every operation when None)."""
        return {name: self.summary(name) for name in self._names(names)}

    def get_statistics(self, name: str) -> dict[str, Any]:
        """Statistics of one operation (see the README for each key)."""
        return self.summary(name).as_dict()

    def get_all_statistics(self) -> dict[str, dict[str, Any]]:
        """``{name: get_statistics(name)}`` for every operation."""
        return {name: self.get_statistics(name) for name in self.get_all_operations()}

    def operation_stats(self, name: str) -> OperationStats:
        """A copy of one operation's raw aggregates (for saving and merging)."""
        return self._known(name).copy()

    def calls(self, name: str) -> CallColumns:
        """The recent calls of one operation, in start order, as columns."""
        self._known(name)
        calls = self._calls.get(name)
        if calls is None:
            calls = self._calls[name] = CallColumns.concat(
                self._chunks.get(name, ()), self.history_limit
            )
        return calls

    def recent_durations_ns(self, name: str) -> Any:
        """Durations (ns, numpy) of the recent successful calls, in start order."""
        calls = self.calls(name)
        return calls.duration_ns[calls.success]

    def recent_starts_ns(self, name: str) -> Any:
        """Start times (ns since the epoch) of the recent successful calls."""
        calls = self.calls(name)
        return calls.start_ns[calls.success]

    def get_call_history(self, name: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Per-call records of the recent calls, oldest first.

        Each record: ``timestamp`` (start, seconds since the epoch),
        ``duration_ms``, ``memory_delta`` (bytes, ``None`` when unknown),
        ``success``, ``error`` (exception type name or ``None``) and ``thread``
        (its name, ``None`` when unknown).
        """
        history: dict[str, list[dict[str, Any]]] = {}
        for op in self._names(None if name is None else [name]):
            calls = self.calls(op)
            deltas = calls.memory_delta().tolist()
            history[op] = [
                {
                    "timestamp": start / 1e9,
                    "duration_ms": (end - start) / 1e6,
                    "memory_delta": None if delta != delta else int(delta),
                    "success": error is None,
                    "error": error,
                    "thread": thread,
                }
                for start, end, delta, error, thread in zip(
                    calls.start_ns.tolist(),
                    calls.end_ns.tolist(),
                    deltas,
                    calls.error.tolist(),
                    calls.thread.tolist(),
                    strict=True,
                )
            ]
        return history

    def notes(self, names: Iterable[str] | None = None) -> list[str]:
        """Stability notes (noisy timings, too few calls for a percentile, clock resolution)."""
        from .stability import stability_warnings

        notes: list[str] = []
        for name in self._names(names):
            notes.extend(stability_warnings(name, self.get_statistics(name)))
        return notes

    def source_statistics(self) -> dict[tuple[str, str], OperationSummary]:
        """``{(source, operation): summary}`` of the calls absorbed from each source."""
        return {
            (source, name): stats.summary()
            for source, operations in self._source_stats.items()
            for name, stats in operations.items()
            if stats.call_count
        }

    def _names(self, names: Iterable[str] | None) -> list[str]:
        if names is None:
            return self.get_all_operations()
        if isinstance(names, str):
            raise TypeError("names must be a list of operation names, not a single str")
        result = list(names)
        for name in result:
            self._known(name)
        return result

    @property
    def wall_offset_ns(self) -> int:
        """Always 0: a snapshot's call times are already nanoseconds since the epoch."""
        return 0

    def report_notes(self) -> list[str]:
        """Where the numbers come from, shown in the NOTES of every report."""
        if self.path is None and len(self.parts) <= 1:
            return []
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        env = self.environment
        origin = f"session file {self.path}" if self.path else "snapshot"
        where = ""
        if env.get("python") or env.get("platform"):
            where = f" (Python {env.get('python', '?')} on {env.get('platform', '?')})"
        note = f"Statistics from {origin} taken {when}{where}."
        if len(self.parts) > 1:
            note += f" Merged from {len(self.parts)} runs."
        return [note]

    def snapshot(self) -> Snapshot:
        """This snapshot (views accept anything with ``.snapshot()``)."""
        return self

    # -- shortcuts to the views (in _views, above every reader; see _hooks) -----
    def to_dataframe(self, **options: Any) -> Any:
        """One row per operation (a pandas DataFrame); see ``statistics_dataframe``."""
        return views().to_dataframe(self, **options)

    def history_dataframe(self, name: str | None = None, **options: Any) -> Any:
        """One row per recent call; see :func:`wdbx_notebook.history_dataframe`."""
        return views().history_dataframe(self, name, **options)

    def report(self, format_type: str = "text") -> Any:
        """A :class:`~wdbx_notebook.PerformanceReport` of this snapshot."""
        return views().report(self, format_type)

    def explain(self, name: str) -> Any:
        """Why one operation is slow or varies; see :func:`wdbx_notebook.explain`."""
        return views().explain(self, name)

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write this snapshot to a session file (atomically); returns the path."""
        return views().save(self, path)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return views().mimebundle(self)

    # -- combining, copying, pickling ------------------------------------------
    def __add__(self, other: object) -> Snapshot:
        if not isinstance(other, Snapshot):
            return NotImplemented
        return merge([self, other])

    def __radd__(self, other: object) -> Snapshot:
        if isinstance(other, int) and other == 0:  # sum(snapshots) starts from 0
            return self
        if not isinstance(other, Snapshot):
            return NotImplemented
        return merge([other, self])

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready): every aggregate and recent call, nothing lost."""
        state = self._state()
        calls = state.pop("calls")
        state["operations"] = {
            name: {"stats": stats.to_dict(), "calls": calls[name].to_dict()}
            for name, stats in state["operations"].items()
        }
        state["source_stats"] = {
            source: {name: stats.to_dict() for name, stats in operations.items()}
            for source, operations in state["source_stats"].items()
        }
        return state

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        """The inverse of :meth:`to_dict` (tuples are accepted where lists are expected)."""
        operations = data["operations"]
        return cls(
            {name: OperationStats.from_dict(entry["stats"]) for name, entry in operations.items()},
            {name: CallColumns.from_dict(entry["calls"]) for name, entry in operations.items()},
            saved_at=data.get("saved_at"),
            environment=data.get("environment"),
            history_limit=data.get("history_limit", 10_000),
            path=data.get("path"),
            schema_version=data.get("schema_version", 1),
            parts=data.get("parts"),
            origin=data.get("origin"),
            sources=data.get("sources"),
            source_stats={
                source: {name: OperationStats.from_dict(s) for name, s in operations.items()}
                for source, operations in (data.get("source_stats") or {}).items()
            },
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._state(),))

    def __copy__(self) -> Snapshot:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, Any]) -> Snapshot:
        return _rebuild(self._state())

    def _state(self) -> dict[str, Any]:
        """Everything this snapshot holds, as constructor arguments (aggregates copied)."""
        names = self.get_all_operations()
        return {
            "operations": {name: self._stats[name].copy() for name in names},
            "calls": {name: self.calls(name) for name in names},
            "saved_at": self.saved_at,
            "environment": self.environment,
            "history_limit": self.history_limit,
            "path": self.path,
            "schema_version": self.schema_version,
            "parts": self.parts,
            "origin": self.origin,
            "sources": self.sources,
            "source_stats": self._source_stats,
        }

    # -- container protocol ----------------------------------------------------
    def __len__(self) -> int:
        return len(self.get_all_operations())

    def __iter__(self) -> Iterator[str]:
        return iter(self.get_all_operations())

    def __contains__(self, name: object) -> bool:
        stats = self._stats.get(name) if isinstance(name, str) else None
        return stats is not None and stats.call_count > 0

    def __repr__(self) -> str:
        ops = self.get_all_operations()
        calls = sum(self._stats[n].call_count for n in ops)
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        origin = f" from {self.path}" if self.path else ""
        merged = f", merged from {len(self.parts)} runs" if len(self.parts) > 1 else ""
        return (
            f"<Snapshot of {len(ops)} operation{'s' if len(ops) != 1 else ''}, "
            f"{calls} call{'s' if calls != 1 else ''}, taken {when}{origin}{merged}>"
        )


def _rebuild(state: dict[str, Any]) -> Snapshot:
    state = dict(state)
    return Snapshot(state.pop("operations"), state.pop("calls"), **state)


def merge(parts: Iterable[Snapshot]) -> Snapshot:
    """Combine snapshots into one: exact for counts, sums, extremes, mean and std;
    percentiles within the sketch's error; recent calls pooled in start order."""
    snapshots = list(parts)
    if not snapshots:
        raise ValueError("merging needs at least one snapshot, got none")
    merged: dict[str, OperationStats] = {}
    pooled: dict[str, list[CallColumns]] = {}
    source_stats: dict[str, dict[str, OperationStats]] = {}
    sources: dict[str, dict[str, Any]] = {}
    for part in snapshots:
        for name in part.get_all_operations():
            if name in merged:
                merged[name].merge(part._stats[name])
            else:
                merged[name] = part._stats[name].copy()
            pooled.setdefault(name, []).append(part.calls(name))
        for key, info in part.sources.items():
            entry = sources.setdefault(key, {**info, "calls": 0})
            entry["calls"] += info.get("calls", 0)
        for key, operations in part._source_stats.items():
            target = source_stats.setdefault(key, {})
            for name, stats in operations.items():
                if name in target:
                    target[name].merge(stats)
                else:
                    target[name] = stats.copy()
    history_limit = max(part.history_limit for part in snapshots)
    return Snapshot(
        merged,
        {name: CallColumns.concat(chunks, history_limit) for name, chunks in pooled.items()},
        saved_at=max(part.saved_at for part in snapshots),
        environment=snapshots[0].environment,
        history_limit=history_limit,
        parts=[p for part in snapshots for p in part.parts],
        sources=sources,
        source_stats=source_stats,
    )


def as_snapshot(source: Any = None) -> Snapshot:
    """What every view reads: a :class:`Snapshot` of ``source``.

    ``source`` is a Snapshot (returned as it is), anything with a
    ``.snapshot()`` method (a live profiler), or ``None`` for the shared
    profiler. Anything else is refused with a ``TypeError`` saying what works.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> as_snapshot(PerformanceProfiler()).get_all_operations()
    []
    """
    if isinstance(source, Snapshot):
        return source
    if source is None:
        # profiler.py registers the shared profiler's getter on import; before
        # that, no profiler exists and so nothing has been recorded.
        shared = _operation.shared_profiler
        return shared().snapshot() if shared is not None else Snapshot({})
    take = getattr(source, "snapshot", None)
    if callable(take):
        result = take()
        if isinstance(result, Snapshot):
            return result
    raise TypeError(
        "expected a PerformanceProfiler, a Snapshot (load_session(path), profiler.snapshot()) "
        f"or None for the shared profiler, got {type(source).__name__} {source!r}"
    )
