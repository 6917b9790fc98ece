"""Recorded calls as columns: the one shape per-call data takes after a fold.

A :class:`CallColumns` holds calls in start order as numpy columns. Times are
nanoseconds since the epoch; ``-1`` marks a figure that is unknown (memory not
tracked, CPU time not measured, a loaded session that never stored it), and
``thread`` holds ``None`` where the thread is unknown. ``error`` is ``None``
for a successful call and the exception type's name for a failed one.

numpy is imported inside functions, so ``import wdbx_notebook`` stays light.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ._memory import UNKNOWN

if TYPE_CHECKING:
    import numpy as np

#: Pending record layouts: the name of a wrapper's flat pending list -> the
#: fields of one record, in order (see :mod:`._operation`).
LAYOUTS: dict[str, tuple[str, ...]] = {
    "timed": ("start", "end", "thread"),
    "timed_cpu": ("start", "end", "thread", "cpu_before", "cpu_after"),
    "measured": ("start", "end", "thread", "mem_before", "mem_after"),
    "measured_cpu": (
        "start",
        "end",
        "thread",
        "mem_before",
        "mem_after",
        "cpu_before",
        "cpu_after",
    ),
}

#: The int64 columns, in the order :meth:`CallColumns.to_dict` writes them.
INT_COLUMNS = ("start_ns", "end_ns", "mem_before", "mem_after", "cpu_ns", "gc_ns")

#: The last name seen for each thread id, for calls of threads that ended
#: before their calls were folded.
_LAST_THREAD_NAMES: dict[int, str] = {}


class CallColumns:
    """Calls as columns, in start order (see the module docstring).

    >>> calls = CallColumns.from_lists(start_ns=[10, 20], end_ns=[15, 40])
    >>> calls.duration_ns.tolist(), calls.success.tolist(), calls.thread.tolist()
    ([5, 20], [True, True], [None, None])
    """

    __slots__ = (
        "cpu_ns",
        "end_ns",
        "error",
        "gc_ns",
        "mem_after",
        "mem_before",
        "start_ns",
        "thread",
    )

    start_ns: np.ndarray
    end_ns: np.ndarray
    thread: np.ndarray
    mem_before: np.ndarray
    mem_after: np.ndarray
    cpu_ns: np.ndarray
    gc_ns: np.ndarray
    error: np.ndarray

    def __init__(self, **columns: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, columns[name])

    # -- building ------------------------------------------------------------
    @classmethod
    def empty(cls) -> CallColumns:
        return cls.from_lists(start_ns=[], end_ns=[])

    @classmethod
    def from_lists(
        cls,
        start_ns: Any,
        end_ns: Any,
        *,
        thread: Any = None,
        mem_before: Any = None,
        mem_after: Any = None,
        cpu_ns: Any = None,
        gc_ns: Any = None,
        error: Any = None,
    ) -> CallColumns:
        """Columns from sequences; a missing column is all unknown (or all successes)."""
        import numpy as np

        starts = np.asarray(start_ns, dtype=np.int64).reshape(-1)
        n = len(starts)

        def ints(values: Any) -> np.ndarray:
            if values is None:
                return np.full(n, UNKNOWN, dtype=np.int64)
            array = np.asarray(values, dtype=np.int64).reshape(-1)
            if len(array) != n:
                raise ValueError(f"a call column has {len(array)} values, expected {n}")
            return array

        def objects(values: Any) -> np.ndarray:
            array = np.empty(n, dtype=object)
            if values is not None:
                values = list(values)
                if len(values) != n:
                    raise ValueError(f"a call column has {len(values)} values, expected {n}")
                array[:] = values
            return array

        return cls(
            start_ns=starts,
            end_ns=ints(end_ns),
            thread=objects(thread),
            mem_before=ints(mem_before),
            mem_after=ints(mem_after),
            cpu_ns=ints(cpu_ns),
            gc_ns=ints(gc_ns),
            error=objects(error),
        )

    @classmethod
    def from_records(
        cls,
        pending: dict[str, list[int]],
        failed: list[tuple[Any, ...]],
        wall_offset_ns: int,
        gc_pauses: tuple[np.ndarray, np.ndarray] | None,
        exact_python: bool = False,
    ) -> CallColumns:
        """One folded batch from the flat pending lists and the failure tuples.

        ``pending`` maps a layout name of :data:`LAYOUTS` to its flat
        list; ``failed`` holds ``(start, end, thread, mem_before, mem_after,
        cpu_before, cpu_after, error)``. Clock readings become epoch ns by adding
        ``wall_offset_ns``; ``gc_pauses`` (clock readings) give each call its GC
        time. ``exact_python`` keeps Python integers (object columns) for readings
        that do not fit int64.
        """
        import numpy as np

        dtype: Any = object if exact_python else np.int64
        parts: list[dict[str, np.ndarray]] = []
        for kind, flat in pending.items():
            if not flat:
                continue
            fields = LAYOUTS[kind]
            if exact_python:
                rows = np.array(flat, dtype=object).reshape(-1, len(fields))
            else:
                rows = np.fromiter(flat, dtype=np.int64, count=len(flat)).reshape(-1, len(fields))
            parts.append({field: rows[:, i] for i, field in enumerate(fields)})
        errors: list[Any] = []
        if failed:
            # A failure tuple is the widest layout's record plus the error's type name.
            fields = LAYOUTS["measured_cpu"]
            rows = np.array([r[:-1] for r in failed], dtype=dtype).reshape(-1, len(fields))
            parts.append({field: rows[:, i] for i, field in enumerate(fields)})
            errors = [r[-1] for r in failed]
        columns: dict[str, list[np.ndarray]] = {
            key: [] for key in ("start", "end", "thread", "mem_before", "mem_after", "cpu")
        }
        for part in parts:
            n = len(part["start"])
            unknown = np.full(n, UNKNOWN, dtype=dtype) if exact_python else _unknown_column(n)
            for key in ("start", "end", "thread"):
                columns[key].append(part[key])
            for key in ("mem_before", "mem_after"):
                columns[key].append(_column(part[key], exact_python) if key in part else unknown)
            if "cpu_before" in part:
                before, after = part["cpu_before"], part["cpu_after"]
                known = (before >= 0) & (after >= 0)
                # The CPU clock is read just outside the wall clock's readings, so for a
                # call of a few hundred ns the reads' own cost can exceed the call:
                # a call cannot use more CPU time than it lasted.
                wall = part["end"] - part["start"]
                cpu = np.minimum(after - before, wall)
                columns["cpu"].append(np.where(known, cpu, UNKNOWN))
            else:
                columns["cpu"].append(unknown)
        joined = {
            key: arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
            for key, arrays in columns.items()
        }
        n_all = len(joined["start"])
        if errors:
            error = np.empty(n_all, dtype=object)
            error[n_all - len(errors) :] = errors
        else:
            error = _filled(None, n_all)
        raw_start, raw_end = joined["start"], joined["end"]
        if exact_python:
            gc_ns = np.full(len(raw_start), UNKNOWN, dtype=dtype)
        elif gc_pauses is None:
            gc_ns = _unknown_column(len(raw_start))
        else:
            gc_ns = overlap_ns(raw_start, raw_end, *gc_pauses)
        batch = cls(
            start_ns=raw_start + wall_offset_ns,
            end_ns=raw_end + wall_offset_ns,
            thread=_thread_names(joined["thread"]),
            mem_before=joined["mem_before"],
            mem_after=joined["mem_after"],
            cpu_ns=joined["cpu"],
            gc_ns=gc_ns,
            error=error,
        )
        return batch.sorted()

    @classmethod
    def concat(cls, chunks: Any, limit: int | None = None) -> CallColumns:
        """Chunks joined in start order, keeping the last ``limit`` calls."""
        import numpy as np

        chunks = [c for c in chunks if len(c)]
        if not chunks:
            return cls.empty()
        if len(chunks) == 1:
            joined = chunks[0]
        else:
            joined = cls(
                **{
                    name: np.concatenate([getattr(c, name) for c in chunks])
                    for name in cls.__slots__
                }
            ).sorted()
        if limit is not None and len(joined) > limit:
            joined = joined.take(slice(len(joined) - limit, None))
        return joined

    def sorted(self) -> CallColumns:
        """These calls in start order (stable: calls that start together keep their order)."""
        starts = self.start_ns
        if len(starts) < 2 or bool((starts[1:] >= starts[:-1]).all()):
            return self
        return self.take(starts.argsort(kind="stable"))

    def take(self, index: Any) -> CallColumns:
        """The calls at ``index`` (a mask, slice or positions)."""
        return CallColumns(**{name: getattr(self, name)[index] for name in self.__slots__})

    # -- reading -----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.start_ns)

    @property
    def duration_ns(self) -> np.ndarray:
        return self.end_ns - self.start_ns

    @property
    def success(self) -> np.ndarray:
        """True for each call that returned."""
        import numpy as np

        same, value = uniform(self.error)
        if same:
            return np.broadcast_to(np.bool_(value is None), (len(self),))
        return np.equal(self.error, None)  # type: ignore[call-overload]

    def all_succeeded(self) -> bool:
        """Whether no call of these failed (at a glance for a batch without failures)."""
        same, value = uniform(self.error)
        return value is None if same else bool(self.success.all())

    def memory_delta(self) -> np.ndarray:
        """Memory after minus before, in bytes, as floats (NaN where unknown)."""
        import numpy as np

        known = (self.mem_before >= 0) & (self.mem_after >= 0)
        return np.where(known, (self.mem_after - self.mem_before).astype(np.float64), np.nan)

    # -- files -------------------------------------------------------------
    def to_dict(self) -> dict[str, list[Any]]:
        """Plain lists (JSON-ready)."""
        data: dict[str, list[Any]] = {name: getattr(self, name).tolist() for name in INT_COLUMNS}
        data["thread"] = self.thread.tolist()
        data["error"] = self.error.tolist()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallColumns:
        """The inverse of :meth:`to_dict` (any sequence type is accepted)."""
        return cls.from_lists(
            data["start_ns"],
            data["end_ns"],
            thread=data.get("thread"),
            mem_before=data.get("mem_before"),
            mem_after=data.get("mem_after"),
            cpu_ns=data.get("cpu_ns"),
            gc_ns=data.get("gc_ns"),
            error=data.get("error"),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CallColumns):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<CallColumns of {len(self)} call{'s' if len(self) != 1 else ''}>"


#: Columns that hold one value throughout (all unknown, no GC time, all
#: successes, one thread) are read-only broadcast views of that value: no memory
#: per call, and readers can tell them at a glance (:func:`uniform`). Small
#: ones are shared, so an operation called once holds no array of its own.
_SHARED_COLUMNS: dict[tuple[Any, int], np.ndarray] = {}
_SHARED_UP_TO = 64
#: value -> the longest broadcast column of it made so far (see :func:`_filled`).
_LONGEST: dict[Any, np.ndarray] = {}


def _filled(value: Any, n: int) -> np.ndarray:
    import numpy as np

    key = (value, n)
    if n <= _SHARED_UP_TO:
        shared = _SHARED_COLUMNS.get(key)
        if shared is not None:
            return shared
    # A slice of a longer broadcast column of the same value is one: slicing costs
    # far less than numpy's broadcast_to, which every fold would pay.
    longest = _LONGEST.get(value)
    if longest is None or len(longest) < n:
        scalar = np.array(value, dtype=np.int64 if isinstance(value, int) else object)
        longest = np.broadcast_to(scalar, (max(n, 1 << 16),))
        if len(_LONGEST) < 4_096:
            _LONGEST[value] = longest
    column = longest[:n]
    if n <= _SHARED_UP_TO and len(_SHARED_COLUMNS) < 4_096:
        _SHARED_COLUMNS[key] = column
    return column


def _unknown_column(n: int) -> np.ndarray:
    return _filled(UNKNOWN, n)


def uniform(column: np.ndarray) -> tuple[bool, Any]:
    """``(True, value)`` when every entry of ``column`` is known to be ``value``
    without looking at them (a broadcast column), else ``(False, None)``."""
    if len(column) and column.strides == (0,):
        return True, column[0]
    return False, None


def _column(view: np.ndarray, exact_python: bool) -> np.ndarray:
    """A column of a batch's record matrix, on its own (a view would keep the whole
    matrix alive); all unknown: a broadcast column."""
    import numpy as np

    if exact_python:
        return view.copy()
    if bool((view == UNKNOWN).all()):
        return _unknown_column(len(view))
    return np.ascontiguousarray(view)


def overlap_ns(
    starts: np.ndarray, ends: np.ndarray, pause_starts: np.ndarray, pause_ends: np.ndarray
) -> np.ndarray:
    """For each call [start, end], the nanoseconds it shares with the pauses.

    A garbage collection stops every Python thread, so a pause counts for every
    call it overlaps, on any thread.

    >>> import numpy as np
    >>> overlap_ns(np.array([0, 50]), np.array([100, 60]), np.array([90]), np.array([120])).tolist()
    [10, 0]
    """
    import numpy as np

    if not len(starts) or not len(pause_starts):
        return _filled(0, len(starts))
    low, high = int(starts.min()), int(ends.max())
    window = (pause_ends > low) & (pause_starts < high)
    if not window.any():
        return _filled(0, len(starts))
    result = np.zeros(len(starts), dtype=np.int64)
    for p_start, p_end in zip(
        pause_starts[window].tolist(), pause_ends[window].tolist(), strict=True
    ):
        result += np.clip(np.minimum(ends, p_end) - np.maximum(starts, p_start), 0, None)
    return result


def _thread_names(idents: np.ndarray) -> np.ndarray:
    """The name of each call's thread, as known now.

    Resolved at fold time, while most threads still run: thread ids are reused
    once a thread ends, so a later lookup could name the wrong thread.
    """
    import numpy as np

    if not len(idents):
        return np.empty(0, dtype=object)
    first = idents[0]
    if bool((idents == first).all()):
        return _filled(_thread_name(int(first)), len(idents))
    unique, inverse = np.unique(idents, return_inverse=True)
    names = np.empty(len(unique), dtype=object)
    names[:] = [_thread_name(int(ident)) for ident in unique.tolist()]
    return names[inverse]


def remember_thread_name() -> None:
    """Note the calling thread's name, for its calls folded after it has ended."""
    thread = threading.current_thread()
    _LAST_THREAD_NAMES[threading.get_ident()] = thread.name


def _thread_name(ident: int) -> str:
    thread = threading._active.get(ident)  # type: ignore[attr-defined]
    if thread is not None:
        _LAST_THREAD_NAMES[ident] = thread.name
        return thread.name
    return _LAST_THREAD_NAMES.get(ident, f"thread-{ident}")
