"""Saved sessions: write a profiler's statistics to JSON, load them back, merge runs.

A session file holds a schema version, the time it was saved, facts about the
machine and environment, and per operation its exact aggregates (counts,
sums, extremes, Chan's mean and M2, the duration sample or sketch) plus the
most recent successful calls (start time and duration), so a loaded session
recomputes every statistic and comparisons can resample real calls. Files are
plain JSON (never pickle) and are written atomically: a crash mid-write leaves
the previous file intact.

>>> import os, tempfile
>>> from wdbx_notebook import PerformanceProfiler, load_session
>>> profiler = PerformanceProfiler(track_memory=False)
>>> with profiler.profile_block("load"):
...     pass
>>> path = os.path.join(tempfile.mkdtemp(), "run.json")
>>> profiler.save(path) == path
True
>>> session = load_session(path)
>>> session.get_statistics("load")["call_count"]
1

Runs from several processes merge exactly (counts, sums, min, max, mean and
std; percentiles within the sketch's error)::

    import multiprocessing
    from wdbx_notebook import PerformanceProfiler, merge_sessions

    def worker(path):
        profiler = PerformanceProfiler()
        search = profiler.profile("search")(sorted)
        for size in range(1_000):
            search(range(size))
        profiler.save(path)
        return path

    if __name__ == "__main__":
        with multiprocessing.Pool(4) as pool:
            paths = pool.map(worker, [f"worker{i}.json" for i in range(4)])
        merged = merge_sessions(paths)
        print(merged.get_statistics("search")["call_count"])  # 4000
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .stats import OperationStats

if TYPE_CHECKING:
    import numpy as np

    from .profiler import PerformanceProfiler

#: The ``format`` key every session file carries, so foreign JSON is recognised.
FORMAT_NAME = "wdbx_notebook.session"

#: The schema this version writes; older ones are migrated on load.
SCHEMA_VERSION = 1

_PACKAGES = ("wdbx_notebook", "numpy", "pandas")
_INT_FIELDS = (
    "call_count",
    "success_count",
    "error_count",
    "duration_sum_ns",
    "memory_count",
    "memory_sum",
)
_OPTIONAL_INT_FIELDS = (
    "duration_min_ns",
    "duration_max_ns",
    "memory_min",
    "memory_max",
    "first_start_ns",
    "last_end_ns",
)
_FLOAT_FIELDS = ("duration_mean_ns", "duration_m2")


class SessionFileError(ValueError):
    """A session file could not be read: truncated, corrupted, foreign or too new.

    ``path`` is the file and ``reason`` says what is wrong with it.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot load session file {path!r}: {reason}")
        self.path = path
        self.reason = reason


# -- environment ---------------------------------------------------------------
def _package_version(name: str) -> str | None:
    # importlib.metadata reads the installed metadata without importing the
    # package, so saving never drags pandas into a plain-Python process.
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment_facts() -> dict[str, Any]:
    """Facts about this machine and interpreter, stored in every session file.

    >>> sorted(environment_facts())[:3]
    ['cpu_count', 'implementation', 'machine']
    """
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "pid": os.getpid(),
        "packages": {name: _package_version(name) for name in _PACKAGES},
    }


# -- snapshots -----------------------------------------------------------------
class Snapshot:
    """A read-only picture of a profiler's statistics: saved, loaded or merged.

    It answers the same questions as a live profiler (``get_statistics``,
    ``get_all_operations``, ``get_all_statistics``, ``to_dataframe``,
    ``report``, ``history_records``, ``get_call_history``), so reports,
    DataFrames and comparisons take either. ``a + b`` merges two snapshots.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler(track_memory=False)
    >>> with profiler.profile_block("step"):
    ...     pass
    >>> both = profiler.snapshot() + profiler.snapshot()
    >>> both.get_statistics("step")["call_count"]
    2

    Attributes:
        saved_at: seconds since the epoch when the statistics were taken.
        environment: machine and package facts of the process that took them
            (for a merge, of the first part; ``parts`` lists every part's).
        path: the file it was loaded from, or ``None``.
        schema_version: the schema of the file it was loaded from.
        history_limit: the most recent successful calls kept per operation.
    """

    __slots__ = (
        "_frozen",
        "_recent",
        "_stats",
        "_summaries",
        "environment",
        "history_limit",
        "parts",
        "path",
        "saved_at",
        "schema_version",
    )

    _stats: dict[str, OperationStats]
    _recent: dict[str, tuple[np.ndarray, np.ndarray]]
    _summaries: dict[str, dict[str, Any]]
    environment: dict[str, Any]
    history_limit: int
    parts: list[dict[str, Any]]
    path: str | None
    saved_at: float
    schema_version: int

    def __init__(
        self,
        operations: dict[str, OperationStats],
        recent: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
        *,
        saved_at: float | None = None,
        environment: dict[str, Any] | None = None,
        history_limit: int = 10_000,
        path: str | None = None,
        schema_version: int = SCHEMA_VERSION,
        parts: list[dict[str, Any]] | None = None,
    ) -> None:
        import numpy as np

        set_ = object.__setattr__
        set_(self, "_stats", dict(operations))
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        recent = recent or {}
        set_(self, "_recent", {name: recent.get(name, empty) for name in operations})
        set_(self, "_summaries", {})
        set_(self, "saved_at", time.time() if saved_at is None else float(saved_at))
        set_(self, "environment", dict(environment or {}))
        set_(self, "history_limit", int(history_limit))
        set_(self, "path", path)
        set_(self, "schema_version", int(schema_version))
        default_parts = [{"saved_at": self.saved_at, "environment": self.environment, "path": path}]
        set_(self, "parts", parts if parts is not None else default_parts)
        set_(self, "_frozen", True)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a Snapshot is read-only; cannot set {name!r}")

    # -- the profiler's reading API ------------------------------------------
    def get_all_operations(self) -> list[str]:
        """Names of the operations with at least one call, in order of first use."""
        return [name for name, stats in self._stats.items() if stats.call_count]

    def _known(self, name: object) -> OperationStats:
        if not isinstance(name, str):
            raise TypeError(f"operation name must be a str, got {type(name).__name__} {name!r}")
        stats = self._stats.get(name)
        if stats is None or not stats.call_count:
            from .profiler import unknown_operation

            raise unknown_operation(
                name,
                self.get_all_operations(),
                "this snapshot has no operation named",
                "the snapshot holds no operations",
            )
        return stats

    def get_statistics(self, name: str) -> dict[str, Any]:
        """Statistics of one operation, the same dict a live profiler returns."""
        stats = self._known(name)
        summary = self._summaries.get(name)
        if summary is None:
            summary = self._summaries[name] = stats.summary()
        return dict(summary, errors_by_type=dict(summary["errors_by_type"]))

    def get_all_statistics(self) -> dict[str, dict[str, Any]]:
        """``{name: get_statistics(name)}`` for every operation."""
        return {name: self.get_statistics(name) for name in self.get_all_operations()}

    def operation_stats(self, name: str) -> OperationStats:
        """A copy of one operation's raw aggregates."""
        return self._known(name).copy()

    @property
    def wall_offset_ns(self) -> int:
        """Always 0: a snapshot's call times are already nanoseconds since the epoch."""
        return 0

    def recent_durations_ns(self, name: str) -> np.ndarray:
        """Durations (ns) of the most recent successful calls, oldest first."""
        self._known(name)
        return self._recent[name][1].copy()

    def recent_starts_ns(self, name: str) -> np.ndarray:
        """Start times (ns since the epoch) of the most recent successful calls."""
        self._known(name)
        return self._recent[name][0].copy()

    def history_records(self, name: str, with_thread_names: bool = False) -> list[tuple[Any, ...]]:
        """Recent successful calls as the profiler's raw tuples
        ``(start_ns, end_ns, thread, mem_before, mem_after, error)``; thread 0 and
        memory -1 (unknown), since sessions do not store them per call; with
        ``with_thread_names``, the name ``"unknown"`` is appended."""
        self._known(name)
        starts, durations = self._recent[name]
        tail = ("unknown",) if with_thread_names else ()
        return [
            (s, s + d, 0, -1, -1, None, *tail)
            for s, d in zip(starts.tolist(), durations.tolist(), strict=True)
        ]

    def get_call_history(self, name: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Per-call records like the profiler's (successful calls only)."""
        if name is not None:
            self._known(name)
        names = [name] if name is not None else self.get_all_operations()
        history: dict[str, list[dict[str, Any]]] = {}
        for op in names:
            starts, durations = self._recent[op]
            history[op] = [
                {
                    "timestamp": s / 1e9,
                    "duration_ms": d / 1e6,
                    "memory_delta": None,
                    "success": True,
                    "error": None,
                    "thread": "unknown",
                }
                for s, d in zip(starts.tolist(), durations.tolist(), strict=True)
            ]
        return history

    # -- views -----------------------------------------------------------------
    def to_dataframe(self) -> Any:
        """One row per operation, one column per statistic (a pandas DataFrame)."""
        from .frames import statistics_dataframe

        return statistics_dataframe(self)

    def history_dataframe(self, name: str | None = None, **options: Any) -> Any:
        """One row per stored call; see :func:`wdbx_notebook.frames.history_dataframe`."""
        from .frames import history_dataframe

        return history_dataframe(self, name, **options)

    def report(self, format_type: str = "text") -> Any:
        """A :class:`~wdbx_notebook.report.PerformanceReport` of this snapshot."""
        from .report import PerformanceReport

        return PerformanceReport(self, format_type)

    def report_notes(self) -> list[str]:
        """Where the numbers come from, shown in the NOTES of every report."""
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

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write this snapshot to a session file (atomically); returns the path."""
        return save_session(self, path)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle = self.report()._repr_mimebundle_()
        bundle["text/plain"] = repr(self) + "\n" + bundle["text/plain"]
        return bundle

    def __add__(self, other: object) -> Snapshot:
        if not isinstance(other, Snapshot):
            return NotImplemented
        return merge_sessions([self, other])

    def __radd__(self, other: object) -> Snapshot:
        if other == 0:  # sum(snapshots) starts from 0
            return self
        if not isinstance(other, Snapshot):
            return NotImplemented
        return merge_sessions([other, self])

    def __len__(self) -> int:
        return len(self.get_all_operations())

    def __iter__(self) -> Iterator[str]:
        return iter(self.get_all_operations())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.get_all_operations()

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


# -- building payloads -----------------------------------------------------------
def _payload(source: PerformanceProfiler | Snapshot) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    if isinstance(source, Snapshot):
        for name in source.get_all_operations():
            starts, durations = source._recent[name]
            operations[name] = {
                "stats": source._stats[name].to_dict(),
                "recent_start_ns": starts.tolist(),
                "recent_duration_ns": durations.tolist(),
            }
        saved_at, environment, history_limit = (
            source.saved_at,
            source.environment,
            source.history_limit,
        )
        parts = source.parts
    else:
        for name in source.get_all_operations():
            operations[name] = {
                "stats": source.operation_stats(name).to_dict(),
                "recent_start_ns": source.recent_starts_ns(name).tolist(),
                "recent_duration_ns": source.recent_durations_ns(name).tolist(),
            }
        saved_at, environment, history_limit = (
            time.time(),
            environment_facts(),
            source.history_limit,
        )
        parts = [{"saved_at": saved_at, "environment": environment, "path": None}]
    return {
        "format": FORMAT_NAME,
        "schema_version": SCHEMA_VERSION,
        "saved_at": saved_at,
        "saved_at_iso": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(saved_at)),
        "environment": environment,
        "history_limit": history_limit,
        "parts": parts,
        "operations": operations,
    }


def _check_source(source: object, what: str) -> None:
    from .profiler import PerformanceProfiler

    if not isinstance(source, (PerformanceProfiler, Snapshot)):
        raise TypeError(
            f"{what} takes a PerformanceProfiler or a Snapshot, "
            f"got {type(source).__name__} {source!r}"
        )


def snapshot(profiler: PerformanceProfiler) -> Snapshot:
    """A read-only snapshot of a live profiler's statistics right now.

    Later calls do not change it; it can be saved, merged and compared.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> snap = snapshot(PerformanceProfiler())
    >>> snap.get_all_operations()
    []
    """
    _check_source(profiler, "snapshot()")
    if isinstance(profiler, Snapshot):
        return profiler
    return _snapshot_from_payload(_payload(profiler), path=None)


# -- writing -------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    # numpy scalars sneak into aggregates on some paths; write them as plain numbers.
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to a session file")


def _new_file_mode(path: str) -> int:
    """The permission bits a plain ``open(path, "w")`` would give the file."""
    try:
        return os.stat(path).st_mode & 0o7777  # keep an existing file's mode
    except OSError:
        pass
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def save_session(source: PerformanceProfiler | Snapshot, path: str | os.PathLike[str]) -> str:
    """Write a profiler's (or snapshot's) statistics to a JSON session file, atomically.

    The data goes to a temporary file in the same directory, is flushed to
    disk, then renamed over ``path`` in one step: readers see the old file or
    the new one, never half of one, even if the process dies mid-write.

    Args:
        source: a :class:`~wdbx_notebook.PerformanceProfiler` or a :class:`Snapshot`.
        path: where to write (conventionally ``*.json``).

    Returns:
        ``path`` as a string.

    Raises:
        FileNotFoundError: the directory of ``path`` does not exist.

    >>> import os, tempfile
    >>> from wdbx_notebook import PerformanceProfiler
    >>> target = os.path.join(tempfile.mkdtemp(), "session.json")
    >>> save_session(PerformanceProfiler(), target) == target
    True
    """
    _check_source(source, "save_session()")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__} {path!r}")
    target = os.fspath(path)
    if isinstance(target, bytes):
        target = os.fsdecode(target)
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"cannot save session to {target!r}: directory {directory!r} does not exist"
        )
    if os.path.isdir(target):
        raise IsADirectoryError(
            f"cannot save session to {target!r}: it is a directory; give a file name"
        )
    payload = _payload(source)
    mode = _new_file_mode(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(
                payload, handle, allow_nan=False, separators=(",", ":"), default=_json_default
            )
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)
    return target


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) on Windows.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- reading -------------------------------------------------------------------
def _migrate_v0(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 0 (the first draft): ``time`` instead of ``saved_at``, the
    aggregates straight under each operation, no environment, no recent calls."""
    migrated = {k: v for k, v in data.items() if k not in ("time", "operations")}
    migrated["schema_version"] = 1
    migrated["saved_at"] = data.get("time", 0.0)
    migrated.setdefault("environment", {})
    operations = data.get("operations")
    if not isinstance(operations, dict):
        raise ValueError("'operations' must be an object mapping names to aggregates")
    migrated["operations"] = {
        name: {"stats": stats, "recent_start_ns": [], "recent_duration_ns": []}
        for name, stats in operations.items()
    }
    return migrated


#: Upgrade steps: schema N -> N + 1.
_MIGRATIONS = {0: _migrate_v0}


def _describe_json_error(text: str, err: json.JSONDecodeError) -> str:
    if err.pos >= len(text.rstrip()):
        return (
            f"the file is truncated: the JSON ends early ({err.msg} at line {err.lineno} "
            f"column {err.colno}, after {len(text)} characters); it was probably not written "
            "completely"
        )
    return (
        f"the file is corrupted: invalid JSON at line {err.lineno} column {err.colno} ({err.msg})"
    )


def _check_int(value: Any, where: str, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        kind = "an integer or null" if optional else "an integer"
        raise ValueError(f"{where} must be {kind}, got {value!r}")


def _check_aggregates(name: str, stats: Any) -> OperationStats:
    where = f"operation {name!r}"
    if not isinstance(stats, dict):
        raise ValueError(f"{where}: the aggregates must be an object, got {type(stats).__name__}")
    missing = [slot for slot in OperationStats.__slots__ if slot not in stats]
    if missing:
        raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
    for key in _INT_FIELDS:
        _check_int(stats[key], f"{where}: {key}")
    for key in _OPTIONAL_INT_FIELDS:
        _check_int(stats[key], f"{where}: {key}", optional=True)
    for key in _FLOAT_FIELDS:
        value = stats[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise ValueError(f"{where}: {key} must be a finite number, got {value!r}")
    if not isinstance(stats["errors_by_type"], dict):
        raise ValueError(f"{where}: errors_by_type must be an object")
    if stats["success_count"] + stats["error_count"] != stats["call_count"]:
        raise ValueError(f"{where}: success_count + error_count differs from call_count")
    try:
        result = OperationStats.from_dict(stats)
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{where}: malformed duration distribution ({err})") from None
    if result.distribution.count != result.success_count:
        raise ValueError(f"{where}: the duration distribution does not hold success_count values")
    return result


def _snapshot_from_payload(data: dict[str, Any], path: str | None) -> Snapshot:
    import numpy as np

    operations = data.get("operations")
    if not isinstance(operations, dict):
        raise ValueError("'operations' must be an object mapping names to aggregates")
    stats: dict[str, OperationStats] = {}
    recent: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, entry in operations.items():
        if not isinstance(entry, dict):
            raise ValueError(f"operation {name!r}: expected an object, got {type(entry).__name__}")
        stats[name] = _check_aggregates(name, entry.get("stats"))
        starts = entry.get("recent_start_ns", [])
        durations = entry.get("recent_duration_ns", [])
        if not (isinstance(starts, list) and isinstance(durations, list)) or len(starts) != len(
            durations
        ):
            raise ValueError(
                f"operation {name!r}: recent_start_ns and recent_duration_ns must be lists "
                "of the same length"
            )
        try:
            recent[name] = (np.array(starts, dtype=np.int64), np.array(durations, dtype=np.int64))
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"operation {name!r}: recent calls must be integers") from None
    saved_at = data.get("saved_at")
    if isinstance(saved_at, bool) or not isinstance(saved_at, (int, float)):
        raise ValueError(f"'saved_at' must be seconds since the epoch, got {saved_at!r}")
    environment = data.get("environment") or {}
    if not isinstance(environment, dict):
        raise ValueError("'environment' must be an object")
    history_limit = data.get("history_limit", 10_000)
    _check_int(history_limit, "'history_limit'")
    parts = data.get("parts")
    if not isinstance(parts, list) or not parts:
        parts = [{"saved_at": saved_at, "environment": environment, "path": path}]
    return Snapshot(
        stats,
        recent,
        saved_at=saved_at,
        environment=environment,
        history_limit=history_limit,
        path=path,
        schema_version=int(data.get("schema_version", SCHEMA_VERSION)),
        parts=parts,
    )


def load_session(path: str | os.PathLike[str]) -> Snapshot:
    """Load a session file written by ``profiler.save(path)`` as a read-only :class:`Snapshot`.

    Files of older schema versions are upgraded on the way in.

    Raises:
        FileNotFoundError: there is no such file.
        SessionFileError: (a ``ValueError``) the file is empty, truncated,
            corrupted, not a session file, or from a newer version; the
            message names the file and the problem.

    >>> import os, tempfile
    >>> from wdbx_notebook import PerformanceProfiler
    >>> target = os.path.join(tempfile.mkdtemp(), "session.json")
    >>> load_session(PerformanceProfiler().save(target)).get_all_operations()
    []
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__} {path!r}")
    name = os.fsdecode(os.fspath(path))
    if not os.path.exists(name):
        raise FileNotFoundError(f"no session file at {name!r}")
    if os.path.isdir(name):
        raise IsADirectoryError(f"{name!r} is a directory, not a session file")
    with open(name, "rb") as handle:
        raw = handle.read()
    if not raw.strip():
        raise SessionFileError(name, "the file is empty; it was probably not written completely")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SessionFileError(
            name, "the file is not UTF-8 text, so it is not a session file (sessions are JSON)"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise SessionFileError(name, _describe_json_error(text, err)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        found = (
            f"top-level keys {', '.join(repr(k) for k in list(data)[:6])}"
            if isinstance(data, dict)
            else f"a JSON {type(data).__name__}"
        )
        raise SessionFileError(
            name,
            f'it is JSON but not a wdbx_notebook session (expected "format": {FORMAT_NAME!r}; '
            f"found {found}); write sessions with profiler.save(path)",
        )
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise SessionFileError(name, f"'schema_version' must be an integer >= 0, got {version!r}")
    if version > SCHEMA_VERSION:
        raise SessionFileError(
            name,
            f"it was written by a newer wdbx_notebook (schema version {version}; this version "
            f"reads up to {SCHEMA_VERSION}); upgrade wdbx_notebook to load it",
        )
    try:
        while version < SCHEMA_VERSION:
            data = _MIGRATIONS[version](data)
            version = data["schema_version"]
        return _snapshot_from_payload(data, path=name)
    except ValueError as err:
        raise SessionFileError(name, f"the session data is malformed: {err}") from None


# -- merging -------------------------------------------------------------------
def _as_snapshot(item: object, position: int) -> Snapshot:
    from .profiler import PerformanceProfiler

    if isinstance(item, Snapshot):
        return item
    if isinstance(item, PerformanceProfiler):
        return snapshot(item)
    if isinstance(item, (str, os.PathLike)):
        return load_session(item)
    raise TypeError(
        f"merge_sessions() item {position} must be a Snapshot, a PerformanceProfiler or a "
        f"session file path, got {type(item).__name__} {item!r}"
    )


def merge_sessions(
    sessions: Iterable[Snapshot | PerformanceProfiler | str | os.PathLike[str]],
) -> Snapshot:
    """Combine runs (from several processes, kernels or days) into one snapshot.

    Counts, sums, min, max, mean and standard deviation combine exactly
    (Chan's parallel formula for mean and M2); percentiles are exact while
    the combined calls fit the exact sample, else within the sketch's
    relative error. The recent calls of each run are pooled (ordered by start
    time, the most recent ``history_limit`` kept).

    Args:
        sessions: snapshots, live profilers (snapshotted now) or session file paths.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler(track_memory=False)
    >>> with profiler.profile_block("step"):
    ...     pass
    >>> merge_sessions([profiler, profiler.snapshot()]).get_statistics("step")["call_count"]
    2
    """
    import numpy as np

    if isinstance(sessions, (str, os.PathLike, Snapshot)):
        raise TypeError("merge_sessions() takes a list of sessions, e.g. merge_sessions([a, b])")
    parts = [_as_snapshot(item, i) for i, item in enumerate(sessions)]
    if not parts:
        raise ValueError("merge_sessions() needs at least one session, got an empty list")
    merged: dict[str, OperationStats] = {}
    pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for part in parts:
        for name in part.get_all_operations():
            if name in merged:
                merged[name].merge(part._stats[name])
            else:
                merged[name] = part._stats[name].copy()
            pooled.setdefault(name, []).append(part._recent[name])
    history_limit = max(part.history_limit for part in parts)
    recent: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, chunks in pooled.items():
        starts = np.concatenate([c[0] for c in chunks])
        durations = np.concatenate([c[1] for c in chunks])
        order = np.argsort(starts, kind="stable")
        order = order[len(order) - history_limit :] if history_limit else order[:0]
        recent[name] = (starts[order], durations[order])
    all_parts = [p for part in parts for p in part.parts]
    return Snapshot(
        merged,
        recent,
        saved_at=max(part.saved_at for part in parts),
        environment=parts[0].environment,
        history_limit=history_limit,
        parts=all_parts,
    )
