"""The garbage-collection pause recorder.

One ``gc.callbacks`` hook, installed while at least one profiler exists and
never on the per-call path, keeps the most recent collections: start and end
(readings of :data:`~._clock.now_ns`), generation and objects collected. At
fold time each call that overlaps a pause is given its GC time
(:func:`~._calls.overlap_ns`): a collection stops every Python thread, so
overlap on any thread counts.
"""

from __future__ import annotations

import gc
import threading
from array import array
from collections import deque
from typing import TYPE_CHECKING, Any

from . import _clock

if TYPE_CHECKING:
    import numpy as np

#: Collections kept (a fold only needs those since the previous fold).
KEEP = 4096

_collections: deque[tuple[int, int, int, int]] = deque(maxlen=KEEP)
# The same pauses' starts and ends as a ring of raw int64s, so that every fold gets
# them as arrays in microseconds (converting 4,096 tuples took a quarter of a
# millisecond per fold, about 60 ns per call of a long-running program).
_ring_starts = array("q", bytes(8 * KEEP))
_ring_ends = array("q", bytes(8 * KEEP))
_recorded = 0
_started: dict[int, int] = {}  # thread id -> start of the collection running there
_users = 0
_lock = threading.Lock()


def _callback(phase: str, info: dict[str, Any]) -> None:
    global _recorded
    now = _clock.now_ns()
    if phase == "start":
        _started[threading.get_ident()] = now
    else:
        start = _started.pop(threading.get_ident(), None)
        if start is not None:
            _collections.append(
                (start, now, int(info.get("generation", -1)), int(info.get("collected", 0)))
            )
            try:
                slot = _recorded % KEEP
                _ring_starts[slot] = start
                _ring_ends[slot] = now
                _recorded += 1
            except OverflowError:  # a replaced clock beyond int64: no pause attributed
                pass


def install() -> None:
    """Start recording collections (counted: one :func:`uninstall` per install)."""
    global _users
    with _lock:
        _users += 1
        if _users == 1 and _callback not in gc.callbacks:
            gc.callbacks.append(_callback)


def uninstall() -> None:
    """Stop recording once the last user is gone."""
    global _users
    with _lock:
        _users = max(0, _users - 1)
        if _users == 0 and _callback in gc.callbacks:
            gc.callbacks.remove(_callback)


def installed() -> bool:
    return _callback in gc.callbacks


def collections() -> list[tuple[int, int, int, int]]:
    """The recent collections as ``(start_ns, end_ns, generation, collected)``."""
    return list(_collections)


def pauses() -> tuple[np.ndarray, np.ndarray] | None:
    """Start and end clock readings of the recent collections, or None when not recording."""
    if not installed():
        return None
    import numpy as np

    n = min(_recorded, KEEP)  # in ring order, not time order: overlaps only add up
    starts = np.frombuffer(_ring_starts, dtype=np.int64)[:n].copy()
    ends = np.frombuffer(_ring_ends, dtype=np.int64)[:n].copy()
    return starts, ends


def no_pauses() -> None:
    """The pause source of a profiler whose clock is not the recorder's."""
    return None
