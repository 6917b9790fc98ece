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
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import _environment
from ._calls import INT_COLUMNS, CallColumns
from .snapshot import Snapshot, as_snapshot, merge
from .stats import OPTIONAL_FIELDS, OperationStats

if TYPE_CHECKING:
    from .profiler import PerformanceProfiler

#: The ``format`` key every session file carries, so foreign JSON is recognised.
FORMAT_NAME = "wdbx_notebook.session"

#: The schema this version writes; older ones are migrated on load.
#: 2: every recent call (failures too) with thread, memory, CPU and GC columns.
SCHEMA_VERSION = 2


class SessionFileError(ValueError):
    """A session file could not be read (not a regular file, too large, truncated,
    corrupted, foreign, inconsistent or too new), or a path cannot take one.

    ``path`` is the file and ``reason`` says what is wrong with it.
    """

    def __init__(self, path: str, reason: str, *, action: str = "load session file") -> None:
        super().__init__(f"cannot {action} {path!r}: {reason}")
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
    if source is not None:
        with contextlib.suppress(TypeError):
            return as_snapshot(source)
    raise TypeError(
        f"{what} takes a PerformanceProfiler or a Snapshot, got {type(source).__name__} {source!r}"
    )


# -- writing -------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    # numpy values sneak into aggregates on some paths; write them as plain data.
    if hasattr(value, "tolist"):
        return value.tolist()
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


#: A temporary file of an earlier save whose writer may still run (same pid alive,
#: or unknown) is removed only once it is this old; a dead writer's goes at once.
ORPHAN_AGE_SECONDS = 30.0


def _temp_pattern(base: str) -> re.Pattern[str]:
    # ".NAME.PID.xxxxxxxx.tmp" (this version) or ".NAME.xxxxxxxx.tmp" (older ones).
    return re.compile(rf"\.{re.escape(base)}\.(?:(\d+)\.)?[a-z0-9_]{{8}}\.tmp")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":
        return True  # (on Windows, os.kill(pid, 0) would send Ctrl-C: rely on the age)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError, ValueError):
        return True  # someone else's process, or not ours to ask: assume it runs
    return True


def _remove_orphans(directory: str, base: str) -> None:
    """Remove the temporary files interrupted saves to ``base`` left behind.

    A file is an orphan when its writer's pid is dead, or when it is older than
    :data:`ORPHAN_AGE_SECONDS` (a writer that still runs keeps touching it), so
    two saves running at once never delete each other's file.
    """
    pattern = _temp_pattern(base)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    now = time.time()
    for entry in names:
        match = pattern.fullmatch(entry)
        if match is None:
            continue
        full = os.path.join(directory, entry)
        try:
            info = os.lstat(full)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        pid = match.group(1)
        dead = pid is not None and not _pid_alive(int(pid))
        if dead or now - info.st_mtime > ORPHAN_AGE_SECONDS:
            with contextlib.suppress(OSError):
                os.unlink(full)


def _check_target(target: str) -> str:
    """The file to replace: ``target``, or the file a symlink at ``target`` points to.

    Refuses anything that is not (or would not be) a regular file.
    """
    real = os.path.realpath(target) if os.path.islink(target) else target
    try:
        info = os.stat(real)
    except FileNotFoundError:
        return real
    except OSError as err:
        raise OSError(f"cannot save session to {target!r}: {err}") from None
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(
            f"cannot save session to {target!r}: it is a directory; give a file name"
        )
    if not stat.S_ISREG(info.st_mode):
        raise SessionFileError(
            target,
            f"it is {_kind_of(info.st_mode)}; save() writes only regular files and never "
            "replaces anything else (choose another path)",
            action="save session to",
        )
    return real


def save_session(source: PerformanceProfiler | Snapshot, path: str | os.PathLike[str]) -> str:
    """Write a profiler's (or snapshot's) statistics to a JSON session file, atomically.

    The data goes to a temporary file in the same directory, is flushed to
    disk, then renamed over ``path`` in one step: readers see the old file or
    the new one, never half of one, even if the process dies mid-write. The
    temporary file of an interrupted save (``.NAME.PID.xxxxxxxx.tmp``) is
    removed the next time that path is saved, once its writer is gone.

    Only a regular file is ever replaced: a FIFO, device node or socket at
    ``path`` is refused. A symlink at ``path`` is written through: the file it
    points to gets the new session (atomically, in that file's directory) and
    the link stays a link.

    Args:
        source: a :class:`~wdbx_notebook.PerformanceProfiler` or a :class:`Snapshot`.
        path: where to write (conventionally ``*.json``).

    Returns:
        ``path`` as a string.

    Raises:
        FileNotFoundError: the directory of ``path`` does not exist.
        IsADirectoryError: ``path`` is a directory.
        SessionFileError: ``path`` is a FIFO, a device node or a socket.

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
    real = _check_target(target)
    directory = os.path.dirname(os.path.abspath(real))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"cannot save session to {target!r}: directory {directory!r} does not exist"
        )
    base = os.path.basename(real)
    _remove_orphans(directory, base)
    payload = _payload(snap)
    mode = _new_file_mode(real)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.{os.getpid()}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(
                payload, handle, allow_nan=False, separators=(",", ":"), default=_json_default
            )
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, real)
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


def _describe_json_error(err: json.JSONDecodeError) -> str:
    text = err.doc
    if err.pos >= len(text.rstrip()):
        return (
            f"the file is truncated: the JSON ends early ({err.msg}); it was probably not "
            "written completely"
        )
    original = getattr(err, "original_pos", None)
    where = f"line {err.lineno} column {err.colno}" if original is None else f"character {original}"
    return f"the file is corrupted: invalid JSON at {where} ({err.msg})"


# -- reading: the file -----------------------------------------------------------
#: The largest session file :func:`load_session` reads unless told otherwise
#: (``load_session(path, max_bytes=...)``, or set this module attribute).
MAX_SESSION_BYTES = 256 * 1024 * 1024

#: Call columns and exact samples: the arrays that make up nearly all of a large
#: file. They are parsed straight into numpy (8 bytes a number instead of a
#: Python int each), so loading needs about twice the file's size, not seven times.
_INT_ARRAYS = frozenset(
    {"start_ns", "end_ns", "mem_before", "mem_after", "cpu_ns", "gc_ns", "values_ns"}
)
_STR_ARRAYS = frozenset({"thread", "error"})
_ARRAY_KEY = re.compile(
    rb'"(start_ns|end_ns|mem_before|mem_after|cpu_ns|gc_ns|values_ns|thread|error)"\s*:\s*\['
)
_INT_CHARS = b"0123456789,- \t\r\n"
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
#: A string array whose end is not found after this many tries is left to json.
_STR_ARRAY_TRIES = 64


def _kind_of(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _read_capped(name: str, max_bytes: int) -> bytes:
    """The file's bytes: a regular file of at most ``max_bytes``, read without blocking."""
    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise FileNotFoundError(f"no session file at {name!r}") from None
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(f"{name!r} is a directory, not a session file")
    if not stat.S_ISREG(info.st_mode):
        raise SessionFileError(
            name, f"it is {_kind_of(info.st_mode)}, not a regular file; sessions are files"
        )
    _check_size(name, info.st_size, max_bytes)
    # O_NONBLOCK: if the path is swapped for a FIFO after the check, open() must not hang.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(name, flags)
    with open(fd, "rb", buffering=0, closefd=True) as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SessionFileError(
                name, f"it is {_kind_of(info.st_mode)}, not a regular file; sessions are files"
            )
        _check_size(name, info.st_size, max_bytes)
        chunks = []
        left = max_bytes + 1  # one byte more tells a file that grew past the cap
        while left > 0:
            chunk = handle.read(min(left, max(info.st_size, 1 << 16)))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    del chunks
    _check_size(name, len(raw), max_bytes)
    return raw


def _check_size(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise SessionFileError(
            name,
            f"it is {size:,} bytes, more than the {max_bytes:,} bytes load_session() reads "
            f"by default; if you trust it, pass load_session(path, max_bytes={size}) or set "
            "wdbx_notebook.persistence.MAX_SESSION_BYTES",
        )


def _check_max_bytes(max_bytes: object) -> int:
    if max_bytes is None:
        return int(MAX_SESSION_BYTES)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError(f"max_bytes must be an int >= 1 (bytes) or None, got {max_bytes!r}")
    return max_bytes


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _escaped(raw: bytes, quote: int) -> bool:
    """Whether the quote at ``quote`` is escaped (an odd run of backslashes before it)."""
    run = 0
    while quote - run - 1 >= 0 and raw[quote - run - 1] == 0x5C:
        run += 1
    return run % 2 == 1


def _int_array(body: bytes) -> Any:
    """A JSON array body of plain integers as int64, or None to leave it to json."""
    import numpy as np

    if body.translate(None, _INT_CHARS):
        return None  # something else than plain integers: json will judge it
    stripped = body.strip()
    if not stripped:
        return np.zeros(0, dtype=np.int64)
    try:
        values = np.fromstring(stripped, dtype=np.int64, sep=",")
    except ValueError:
        return None
    if len(values) != stripped.count(b",") + 1 or len(values) != stripped.count(b"-") + int(
        (values >= 0).sum()
    ):
        return None  # a stray comma or minus sign: json gives the exact error
    if len(values) and (values.max() == _INT64_MAX or values.min() == _INT64_MIN):
        return None  # numpy clamps what does not fit int64; json keeps the exact value
    return values


def _str_array(raw: bytes, start: int) -> tuple[Any, int] | None:
    """The JSON array of strings or nulls opening at ``start`` as an object array
    (equal names share one str) and the index after it, or None."""
    import numpy as np

    end = start
    for _ in range(_STR_ARRAY_TRIES):
        end = raw.find(b"]", end + 1)
        if end < 0:
            return None
        try:
            items = json.loads(raw[start : end + 1])
        except (ValueError, RecursionError):
            continue  # that ']' was inside a string
        if not isinstance(items, list) or not set(map(type, items)) <= {str, type(None)}:
            return None
        shared: dict[Any, Any] = {}
        array = np.empty(len(items), dtype=object)
        array[:] = list(map(shared.setdefault, items, items))
        return array, end + 1
    return None


def _parse(raw: bytes) -> Any:
    """JSON with the big arrays parsed straight into numpy (see :data:`_INT_ARRAYS`).

    Each array is swapped for a placeholder string no file can contain (it holds a
    random token), json parses the small rest, and the placeholders are put back.
    """
    arrays: list[Any] = []
    token = f"\\u0000wdbx-{secrets.token_hex(8)}:".encode()
    pieces: list[bytes] = []
    shifts: list[tuple[int, int]] = []  # (end of a placeholder in the text, bytes removed)
    last = kept = removed = 0
    for match in _ARRAY_KEY.finditer(raw):
        if match.start() < last or _escaped(raw, match.start()):
            continue
        opening = match.end() - 1
        if match.group(1).decode() in _INT_ARRAYS:
            end = raw.find(b"]", opening)
            found = None if end < 0 else _int_array(raw[opening + 1 : end])
            after = end + 1
        else:
            taken = _str_array(raw, opening)
            found, after = (None, 0) if taken is None else taken
        if found is None:
            continue
        placeholder = b'"' + token + str(len(arrays)).encode() + b'"'
        pieces.append(raw[last:opening])
        pieces.append(placeholder)
        kept += opening - last + len(placeholder)
        removed += after - opening - len(placeholder)
        shifts.append((kept, removed))
        arrays.append(found)
        last = after
    if arrays:
        pieces.append(raw[last:])
        text = b"".join(pieces).decode("utf-8")
    else:
        text = raw.decode("utf-8")
    del pieces
    prefix = "\0" + token.decode()[6:]

    def restore(obj: dict[str, Any]) -> dict[str, Any]:
        for key, value in obj.items():
            if type(value) is str and value.startswith(prefix):
                obj[key] = arrays[int(value[len(prefix) :])]
        return obj

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"it holds {name}, a number session files never contain")

    try:
        return json.loads(
            text, object_hook=restore if arrays else None, parse_constant=refuse_constant
        )
    except json.JSONDecodeError as err:
        before = [shift for end, shift in shifts if end <= err.pos]
        if before:
            err.original_pos = err.pos + before[-1]  # type: ignore[attr-defined]
        raise


# -- reading: validation ----------------------------------------------------------
#: Bounds that keep every view working: times are ns since the epoch that pandas'
#: datetime64[ns] can hold (up to 2262); a memory figure beyond 2**53 bytes (8 PiB)
#: is no measurement.
_MAX_EPOCH_NS = _INT64_MAX
_MAX_SAVED_AT = _MAX_EPOCH_NS / 1e9
_MAX_MEMORY = 2**53


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _int(
    value: Any,
    where: str,
    *,
    low: int | None = None,
    high: int = _INT64_MAX,
    optional: bool = False,
) -> Any:
    """``value`` if it is an int in ``[low, high]`` (or None when ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        kind = "an integer or null" if optional else "an integer"
        raise ValueError(f"{where} must be {kind}, got {_show(value)}")
    if low is not None and value < low:
        raise ValueError(f"{where} must be >= {low}, got {value}")
    if value > high or value < -high - 1:
        raise ValueError(f"{where} is out of range ({_show(value)})")
    return value


def _number(value: Any, where: str, *, low: float | None = None, high: float = 1e300) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number, got {_show(value)}")
    if (low is not None and value < low) or abs(value) > high:
        raise ValueError(f"{where} is out of range ({_show(value)})")
    return float(value)


def _close(a: float, b: float, scale: float) -> bool:
    """Equal within float error (the running mean is combined batch by batch)."""
    return abs(a - b) <= 1e-6 * max(abs(scale), 1.0) + 1.0


def _check_aggregates(name: str, stats: Any) -> OperationStats:
    """One operation's aggregates, every field checked against its meaning."""
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

    def field(key: str, **bounds: Any) -> Any:
        return _int(stats[key], f"{where}: {key}", **bounds)

    calls = field("call_count", low=0)
    ok = field("success_count", low=0)
    failed = field("error_count", low=0)
    if ok + failed != calls:
        raise ValueError(
            f"{where}: success_count + error_count ({ok} + {failed}) differs from "
            f"call_count ({calls})"
        )
    errors = stats["errors_by_type"]
    if not isinstance(errors, dict):
        raise ValueError(f"{where}: errors_by_type must be an object of counts")
    for kind, count in errors.items():
        _int(count, f"{where}: errors_by_type[{kind!r}]", low=1)
    if sum(errors.values()) != failed:
        raise ValueError(
            f"{where}: errors_by_type counts add up to {sum(errors.values())}, "
            f"not error_count ({failed})"
        )
    total = field("duration_sum_ns", low=0)
    low = field("duration_min_ns", low=0, optional=True)
    high = field("duration_max_ns", low=0, optional=True)
    mean = _number(stats["duration_mean_ns"], f"{where}: duration_mean_ns", low=0)
    m2 = _number(stats["duration_m2"], f"{where}: duration_m2", low=0)
    if ok:
        if low is None or high is None or low > high:
            raise ValueError(
                f"{where}: duration_min_ns and duration_max_ns must be integers "
                f"with min <= max for {ok} successful calls"
            )
        if not (low - 1 <= mean <= high + 1) or not _close(total, mean * ok, total):
            raise ValueError(
                f"{where}: duration_mean_ns ({mean:g}) does not agree with "
                f"duration_sum_ns / success_count and the min and max"
            )
        if not total >= low * ok or not total <= high * ok:
            raise ValueError(f"{where}: duration_sum_ns is outside success_count x [min, max]")
        if m2 > ok * float(high - low) ** 2 + 1.0:
            raise ValueError(
                f"{where}: duration_m2 is larger than the spread of the durations allows"
            )
    elif low is not None or high is not None or total or mean or m2:
        raise ValueError(f"{where}: duration figures without a successful call")
    memory = field("memory_count", low=0, high=calls)
    memory_sum = field("memory_sum")
    memory_low = field("memory_min", optional=True, high=_MAX_MEMORY)
    memory_high = field("memory_max", optional=True, high=_MAX_MEMORY)
    if memory:
        if memory_low is None or memory_high is None or memory_low > memory_high:
            raise ValueError(
                f"{where}: memory_min and memory_max must be integers with "
                "min <= max when memory_count > 0"
            )
        if not memory_low * memory <= memory_sum <= memory_high * memory:
            raise ValueError(f"{where}: memory_sum is outside memory_count x [min, max]")
    elif memory_sum or memory_low is not None or memory_high is not None:
        raise ValueError(f"{where}: memory figures without a call that measured memory")
    first = field("first_start_ns", low=0, optional=True)
    last = field("last_end_ns", low=0, optional=True)
    if calls and (first is None or last is None or first > last):
        raise ValueError(
            f"{where}: first_start_ns and last_end_ns must be times (ns since "
            "the epoch) with first <= last"
        )
    if not calls and (first is not None or last is not None):
        raise ValueError(f"{where}: first_start_ns/last_end_ns without a call")
    for key, most in (
        ("cpu_count", ok),
        ("cpu_sum_ns", _INT64_MAX),
        ("cpu_wall_sum_ns", _INT64_MAX),
        ("gc_sum_ns", _INT64_MAX),
        ("gc_call_count", ok),
        ("gc_known_count", ok),
    ):
        if key in stats:
            _int(stats[key], f"{where}: {key}", low=0, high=most)
    if "first_success_start_ns" in stats or "first_duration_ns" in stats:
        begin = _int(
            stats.get("first_success_start_ns"),
            f"{where}: first_success_start_ns",
            low=0,
            optional=True,
        )
        took = _int(
            stats.get("first_duration_ns"), f"{where}: first_duration_ns", low=0, optional=True
        )
        if (begin is None) != (took is None) or (begin is not None and not ok):
            raise ValueError(
                f"{where}: first_success_start_ns and first_duration_ns go "
                "together, with a successful call"
            )
        if took is not None and low is not None and high is not None and not low <= took <= high:
            raise ValueError(f"{where}: first_duration_ns is outside [min, max]")
    _check_distribution(where, stats["distribution"], ok, total, low, high)
    try:
        return OperationStats.from_dict(stats)
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise ValueError(f"{where}: malformed aggregates ({err})") from None


def _check_distribution(
    where: str, dist: Any, ok: int, total: int, low: int | None, high: int | None
) -> None:
    import numpy as np

    from .stats import bucket_keys

    if not isinstance(dist, dict) or dist.get("kind") not in ("exact", "sketch"):
        raise ValueError(
            f'{where}: the duration distribution must be an object of kind "exact" or "sketch"'
        )
    if dist["kind"] == "exact":
        values = _int_column(dist.get("values_ns"), f"{where}: distribution values_ns")
        if len(values) != ok:
            raise ValueError(
                f"{where}: the duration distribution does not hold "
                f"success_count values ({len(values)} != {ok})"
            )
        if ok and (
            int(values.min()) != low
            or int(values.max()) != high
            or int(values.sum(dtype=object)) != total
        ):
            raise ValueError(
                f"{where}: the duration distribution does not match "
                "duration_min_ns, duration_max_ns and duration_sum_ns"
            )
        return
    count = _int(dist.get("count"), f"{where}: distribution count", low=0)
    buckets = dist.get("buckets")
    if count != ok:
        raise ValueError(
            f"{where}: the duration distribution does not hold success_count "
            f"values ({count} != {ok})"
        )
    if not isinstance(buckets, dict):
        raise ValueError(f"{where}: distribution buckets must be an object")
    if ok and low is not None and high is not None:
        lowest, highest = (int(k) for k in bucket_keys(np.array([low, high])))
    else:
        lowest, highest = 0, -1
    seen = 0
    for key, value in buckets.items():
        try:
            number = int(key)
        except ValueError:
            raise ValueError(f"{where}: distribution bucket {_show(key)} is not a number") from None
        if not lowest <= number <= highest:
            raise ValueError(
                f"{where}: distribution bucket {number} lies outside the durations' [min, max]"
            )
        seen += _int(value, f"{where}: distribution bucket {number}", low=1)
    if seen != count:
        raise ValueError(f"{where}: sketch bucket counts do not add up to its count")


def _int_column(values: Any, where: str) -> Any:
    """An int64 numpy column from a parsed array or a JSON list of integers."""
    import numpy as np

    if isinstance(values, np.ndarray) and values.dtype == np.int64:
        return values
    if not isinstance(values, list):
        raise ValueError(f"{where} must be a list of integers, got {type(values).__name__}")
    for value in values:
        _int(value, where + " (each value)")
    return np.array(values, dtype=np.int64)


def _str_column(values: Any, where: str) -> Any:
    import numpy as np

    if isinstance(values, np.ndarray) and values.dtype == object:
        return values  # parsed as strings or nulls only
    if not isinstance(values, list) or not all(v is None or isinstance(v, str) for v in values):
        raise ValueError(f"{where} must be a list of strings or nulls")
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _check_calls(name: str, calls: Any, stats: OperationStats) -> CallColumns:
    """A schema-2 ``calls`` object: equal-length columns, each holding what it means."""
    import numpy as np

    where = f"operation {name!r}: calls"
    if not isinstance(calls, dict):
        raise ValueError(f"{where} must be an object of columns, got {type(calls).__name__}")
    columns: dict[str, Any] = {}
    for key in ("start_ns", "end_ns"):
        if key not in calls:
            raise ValueError(f"{where}: the {key} column is missing")
    for key in INT_COLUMNS:
        if key in calls:
            columns[key] = _int_column(calls[key], f"{where}: {key}")
    for key in ("thread", "error"):
        if key in calls:
            columns[key] = _str_column(calls[key], f"{where}: {key}")
    n = len(columns["start_ns"])
    for key, column in columns.items():
        if len(column) != n:
            raise ValueError(
                f"{where}: every column must hold {n} values ({key!r} holds {len(column)})"
            )
    if n > stats.call_count:
        raise ValueError(f"{where}: {n} recent calls but call_count is {stats.call_count}")
    start, end = columns["start_ns"], columns["end_ns"]
    if n:
        if int(start.min()) < 0 or bool((end < start).any()):
            raise ValueError(
                f"{where}: every call must end at or after its start (ns since the epoch)"
            )
        first, last = stats.first_start_ns, stats.last_end_ns
        if first is None or last is None or int(start.min()) < first or int(end.max()) > last:
            raise ValueError(f"{where}: calls lie outside first_start_ns..last_end_ns")
    for key in ("mem_before", "mem_after", "cpu_ns", "gc_ns"):
        column = columns.get(key)
        if column is not None and n and (int(column.min()) < -1 or int(column.max()) > _MAX_MEMORY):
            raise ValueError(f"{where}: {key} must hold -1 (unknown) or a figure >= 0")
    errors = columns.get("error")
    failed = 0 if errors is None else int(np.not_equal(errors, None).sum())  # type: ignore[call-overload]
    if failed > stats.error_count or n - failed > stats.success_count:
        raise ValueError(f"{where}: more failed or successful calls than the counts say")
    if n - failed and stats.duration_min_ns is not None and stats.duration_max_ns is not None:
        ok = np.equal(errors, None) if errors is not None else slice(None)  # type: ignore[call-overload]
        durations = (end - start)[ok]
        if (
            int(durations.min()) < stats.duration_min_ns
            or int(durations.max()) > stats.duration_max_ns
        ):
            raise ValueError(
                f"{where}: successful durations lie outside duration_min_ns..duration_max_ns"
            )
    if errors is not None and failed and "" in set(errors.tolist()):
        raise ValueError(f"{where}: an error must be an exception type's name or null")
    try:
        return CallColumns.from_dict(columns)
    except (KeyError, OverflowError, ValueError, TypeError) as err:
        raise ValueError(f"{where}: {err}") from None


def _check_parts(parts: Any, saved_at: float, environment: dict[str, Any], path: str | None) -> Any:
    if parts is None or (isinstance(parts, list) and not parts):
        return [{"saved_at": saved_at, "environment": environment, "path": path}]
    if not isinstance(parts, list):
        raise ValueError("'parts' must be a list of objects")
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            raise ValueError(f"'parts' item {i} must be an object")
        if "saved_at" in part:
            _number(part["saved_at"], f"'parts' item {i}: saved_at", low=0, high=_MAX_SAVED_AT)
        if not isinstance(part.get("environment", {}), dict):
            raise ValueError(f"'parts' item {i}: environment must be an object")
        if not isinstance(part.get("path"), (str, type(None))):
            raise ValueError(f"'parts' item {i}: path must be a string or null")
    return parts


def _snapshot_from_payload(data: dict[str, Any], path: str | None) -> Snapshot:
    operations = data.get("operations")
    if not isinstance(operations, dict):
        raise ValueError("'operations' must be an object mapping names to aggregates")
    stats: dict[str, OperationStats] = {}
    calls: dict[str, CallColumns] = {}
    for name, entry in operations.items():
        if not name.strip():
            raise ValueError(f"operation names must be non-empty, got {name!r}")
        if not isinstance(entry, dict):
            raise ValueError(f"operation {name!r}: expected an object, got {type(entry).__name__}")
        stats[name] = _check_aggregates(name, entry.get("stats"))
        calls[name] = _check_calls(
            name, entry.get("calls", {"start_ns": [], "end_ns": []}), stats[name]
        )
    saved_at = _number(
        data.get("saved_at"), "'saved_at' (seconds since the epoch)", low=0, high=_MAX_SAVED_AT
    )
    environment = data.get("environment") or {}
    if not isinstance(environment, dict):
        raise ValueError("'environment' must be an object")
    history_limit = _int(data.get("history_limit", 10_000), "'history_limit'", low=0)
    parts = _check_parts(data.get("parts"), saved_at, environment, path)
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


def load_session(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> Snapshot:
    """Load a session file written by ``profiler.save(path)`` as a read-only :class:`Snapshot`.

    Files of older schema versions are upgraded on the way in. Loading never
    blocks and stays bounded: only a regular file is read (a FIFO, a device
    such as ``/dev/zero``, a socket or a directory is refused before anything
    is read), at most ``max_bytes`` of it (default :data:`MAX_SESSION_BYTES`,
    256 MiB), and its big arrays go straight into numpy, so loading needs
    about twice the file's size in memory. Every field is checked against
    its meaning (types, ranges, counts that must agree), so whatever loads
    works in every view.

    Args:
        path: the session file.
        max_bytes: the largest file to read; ``None`` for :data:`MAX_SESSION_BYTES`.

    Raises:
        FileNotFoundError: there is no such file.
        IsADirectoryError: ``path`` is a directory.
        SessionFileError: (a ``ValueError``) the file is not a regular file, is
            larger than ``max_bytes``, empty, truncated, corrupted, not a
            session file, holds figures that contradict each other, or is
            from a newer version; the message names the file and the problem.

    >>> import os, tempfile
    >>> from wdbx_notebook import PerformanceProfiler
    >>> target = os.path.join(tempfile.mkdtemp(), "session.json")
    >>> load_session(PerformanceProfiler().save(target)).get_all_operations()
    []
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__} {path!r}")
    cap = _check_max_bytes(max_bytes)
    name = os.fsdecode(os.fspath(path))
    raw = _read_capped(name, cap)
    if not raw or raw.isspace():
        raise SessionFileError(name, "the file is empty; it was probably not written completely")
    data = _decode(name, raw)
    del raw
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
    except (ValueError, TypeError, OverflowError, KeyError, AttributeError, RecursionError) as err:
        raise SessionFileError(name, f"the session data is malformed: {err}") from None


def _decode(name: str, raw: bytes) -> Any:
    """The parsed JSON of a file's bytes, or SessionFileError saying what is wrong."""
    try:
        return _parse(raw)
    except UnicodeDecodeError:
        raise SessionFileError(
            name, "the file is not UTF-8 text, so it is not a session file (sessions are JSON)"
        ) from None
    except json.JSONDecodeError as err:
        raise SessionFileError(name, _describe_json_error(err)) from None
    except RecursionError:
        raise SessionFileError(
            name, "the file is corrupted: its JSON is nested far deeper than a session's"
        ) from None
    except ValueError as err:  # a NaN or Infinity (refused while parsing)
        raise SessionFileError(name, f"the file is corrupted: {err}") from None


# -- merging -------------------------------------------------------------------
def as_session(value: object, what: str) -> Snapshot:
    """A Snapshot of ``value``: a session file path (loaded), a Snapshot, or anything
    with ``.snapshot()`` (a live profiler). ``what`` names the argument in the error.

    The one place a "session" argument (``compare``'s sides, an alert's baseline,
    ``merge_sessions``' items) becomes a Snapshot.
    """
    if isinstance(value, (str, os.PathLike)):
        return load_session(value)
    if value is not None:
        with contextlib.suppress(TypeError):
            return as_snapshot(value)
    raise TypeError(
        f"{what} must be a Snapshot, a PerformanceProfiler or a session file path, "
        f"got {type(value).__name__} {value!r}"
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
    parts = [as_session(item, f"merge_sessions() item {i}") for i, item in enumerate(sessions)]
    if not parts:
        raise ValueError("merge_sessions() needs at least one session, got an empty list")
    return merge(parts)
