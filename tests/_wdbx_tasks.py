"""Tasks the distributed tests ship to worker processes (importable there by name).

Each task calls a profiled function ``n`` times and returns the durations (ns)
its worker's profiler recorded for those very calls: the ground truth that the
calls brought home must add up to exactly.
"""

from __future__ import annotations

import time
from typing import Any

from wdbx_notebook import get_performance_profiler
from wdbx_notebook.distributed import collected

_steps: dict[str, Any] = {}


def _square(x: int) -> int:
    return x * x


def step(name: str) -> Any:
    """The shared profiler's time-only wrapper of a tiny function, named ``name``."""
    wrapper = _steps.get(name)
    if wrapper is None:
        wrapper = _steps[name] = get_performance_profiler().profile(name, track_memory=False)(
            _square
        )
    return wrapper


def work(n: int, name: str, pause_s: float = 0.0) -> list[int]:
    """Call ``name`` n times (one task at a time per worker); their recorded durations."""
    call = step(name)
    for i in range(n):
        call(i)
        if pause_s:
            time.sleep(pause_s)
    calls = get_performance_profiler().snapshot([name]).calls(name)
    return [int(d) for d in calls.duration_ns[len(calls) - n :]]


def fail_after(n: int, name: str) -> None:
    """Make n calls, then raise: the calls still come home with the exception."""
    work(n, name)
    raise ValueError(f"failed after {n} calls")


@collected
def work_decorated(n: int, name: str) -> list[int]:
    """``work`` decorated at module level: pickled by name."""
    return work(n, name)
