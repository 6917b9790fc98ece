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
import tempfile
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import _environment
from ._calls import CallColumns
from .snapshot import Snapshot, merge
from .stats import OPTIONAL_FIELDS, OperationStats

if TYPE_CHECKING:
    from .profiler import PerformanceProfiler

#: The ``format`` key every session file carries, so foreign JSON is recognised.
FORMAT_NAME = "wdbx_notebook.session"

#: The schema this version writes; older ones are migrated on load.
#: 2: every recent call (failures too) with thread, memory, CPU and GC columns.
SCHEMA_VERSION = 2

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
environment_facts = _environment.environment_facts


# -- building payloads -----------------------------------------------------------
def _payload(source: Any) -> dict[str, Any]:
    """The JSON payload of a profiler or snapshot: one consistent cut of every operation."""
    snap = _check_source(source, "save_session()")
    operations = {
        name: {"stats": snap.operation_stats(name).to_dict(), "calls": snap.calls(name).to_dict()}
        for name in snap.get_all_operations()
    }
    saved_at = snap.saved_at
    environment = snap.environment or environment_facts()
    parts = snap.parts
    if snap.path is None and len(parts) <= 1:
        parts = [{"saved_at": saved_at, "environment": environment, "path": None}]
    return {
        "format": FORMAT_NAME,
        "schema_version": SCHEMA_VERSION,
        "saved_at": saved_at,
        "saved_at_iso": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(saved_at)),
        "environment": environment,
        "history_limit": snap.history_limit,
        "parts": parts,
        "operations": operations,
    }


def _check_source(source: object, what: str) -> Snapshot:
    if isinstance(source, Snapshot):
        return source
    take = getattr(source, "snapshot", None)
    result = take() if callable(take) else None
    if not isinstance(result, Snapshot):
        raise TypeError(
            f"{what} takes a PerformanceProfiler or a Snapshot, "
            f"got {type(source).__name__} {source!r}"
        )
    return result


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
    snap = _check_source(source, "save_session()")
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
    payload = _payload(snap)
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
    # (schema 1 -> 2 follows)
    migrated.setdefault("environment", {})
    operations = data.get("operations")
    if not isinstance(operations, dict):
        raise ValueError("'operations' must be an object mapping names to aggregates")
    migrated["operations"] = {
        name: {"stats": stats, "recent_start_ns": [], "recent_duration_ns": []}
        for name, stats in operations.items()
    }
    return migrated


def _migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 stored only the recent successful calls' starts and durations;
    everything else about a call is unknown."""
    migrated = dict(data, schema_version=2)
    operations = data.get("operations")
    if not isinstance(operations, dict):
        raise ValueError("'operations' must be an object mapping names to aggregates")
    upgraded = {}
    for name, entry in operations.items():
        if not isinstance(entry, dict):
            raise ValueError(f"operation {name!r}: expected an object, got {type(entry).__name__}")
        starts = entry.get("recent_start_ns", [])
        durations = entry.get("recent_duration_ns", [])
        if not (isinstance(starts, list) and isinstance(durations, list)) or len(starts) != len(
            durations
        ):
            raise ValueError(
                f"operation {name!r}: recent_start_ns and recent_duration_ns must be lists "
                "of the same length"
            )
        if not all(_is_int(v) for v in starts) or not all(_is_int(v) for v in durations):
            raise ValueError(f"operation {name!r}: recent calls must be integers")
        calls = {
            "start_ns": starts,
            "end_ns": [s + d for s, d in zip(starts, durations, strict=True)],
        }
        upgraded[name] = {"stats": entry.get("stats"), "calls": calls}
    migrated["operations"] = upgraded
    return migrated


#: Upgrade steps: schema N -> N + 1.
_MIGRATIONS = {0: _migrate_v0, 1: _migrate_v1}


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
    missing = [
        slot
        for slot in OperationStats.__slots__
        if slot not in stats and slot not in OPTIONAL_FIELDS
    ]
    if missing:
        raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
    for key in _INT_FIELDS:
        _check_int(stats[key], f"{where}: {key}")
    for key in _OPTIONAL_INT_FIELDS:
        _check_int(stats[key], f"{where}: {key}", optional=True)
    for key in OPTIONAL_FIELDS:
        if key in stats:
            _check_int(stats[key], f"{where}: {key}", optional=key.startswith("first_"))
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


def _check_calls(name: str, calls: Any) -> CallColumns:
    """A schema-2 ``calls`` object: equal-length columns of the right types."""
    where = f"operation {name!r}: calls"
    if not isinstance(calls, dict):
        raise ValueError(f"{where} must be an object of columns, got {type(calls).__name__}")
    for key in ("start_ns", "end_ns"):
        if not isinstance(calls.get(key), list):
            raise ValueError(f"{where}: {key} must be a list")
    n = len(calls["start_ns"])
    for key, value in calls.items():
        if not isinstance(value, list) or len(value) != n:
            raise ValueError(f"{where}: every column must be a list of {n} values ({key!r} is not)")
        if key in ("thread", "error"):
            if not all(v is None or isinstance(v, str) for v in value):
                raise ValueError(f"{where}: {key} must hold strings or null")
        elif not all(_is_int(v) for v in value):
            raise ValueError(f"{where}: {key} must hold integers")
    try:
        return CallColumns.from_dict(calls)
    except (KeyError, OverflowError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _snapshot_from_payload(data: dict[str, Any], path: str | None) -> Snapshot:
    operations = data.get("operations")
    if not isinstance(operations, dict):
        raise ValueError("'operations' must be an object mapping names to aggregates")
    stats: dict[str, OperationStats] = {}
    calls: dict[str, CallColumns] = {}
    for name, entry in operations.items():
        if not isinstance(entry, dict):
            raise ValueError(f"operation {name!r}: expected an object, got {type(entry).__name__}")
        stats[name] = _check_aggregates(name, entry.get("stats"))
        calls[name] = _check_calls(name, entry.get("calls", {"start_ns": [], "end_ns": []}))
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
        calls,
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
    if isinstance(item, (str, os.PathLike)):
        return load_session(item)
    if isinstance(item, Snapshot):
        return item
    take = getattr(item, "snapshot", None)
    result = take() if callable(take) else None
    if isinstance(result, Snapshot):
        return result
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
    if isinstance(sessions, (str, os.PathLike, Snapshot)):
        raise TypeError("merge_sessions() takes a list of sessions, e.g. merge_sessions([a, b])")
    parts = [_as_snapshot(item, i) for i, item in enumerate(sessions)]
    if not parts:
        raise ValueError("merge_sessions() needs at least one session, got an empty list")
    return merge(parts)
