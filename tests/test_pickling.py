"""Profiled functions travel to other processes and record there; forked children start clean.

Real processes throughout: multiprocessing with spawn and fork, a ProcessPoolExecutor,
cloudpickle of functions defined in a script's ``__main__`` (shipped by value to a fresh
interpreter), and os.fork beside a thread that keeps flushing and reading.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from wdbx_notebook import get_performance_profiler

cloudpickle = pytest.importorskip("cloudpickle")

CALLS = 25
ROOT = Path(__file__).resolve().parents[1]

profiler = get_performance_profiler()


@profiler.profile("travel.square", track_memory=False)
def square(x: int) -> int:
    return x * x


@profiler.profile("travel.grow")
def grow(n: int) -> int:
    return len([0] * n)


def heap(n: int) -> int:
    return len(bytearray(n))


@contextlib.contextmanager
def tracemalloc_wrapper() -> Iterator[Any]:
    """A tracemalloc-mode wrapper of ``heap``; tracing stops again afterwards in this process
    (decorating at import would trace the whole test session)."""
    was_tracing = tracemalloc.is_tracing()
    try:
        yield profiler.profile("travel.heap", track_memory="tracemalloc")(heap)
    finally:
        if not was_tracing:
            tracemalloc.stop()


def run_shipped(blob: bytes, n: int, name: str) -> dict[str, Any]:
    """In the worker: unpickle a function shipped by value, then :func:`child_run`."""
    return child_run(cloudpickle.loads(blob), n, name)


@profiler.profile("travel.async", track_memory=False)
async def async_square(x: int) -> int:
    return x * x


def child_run(func: Any, n: int, name: str) -> dict[str, Any]:
    """In the worker: call ``func`` n times; what the worker's shared profiler recorded."""
    import asyncio
    import inspect
    import tracemalloc

    from wdbx_notebook import get_performance_profiler

    for i in range(n):
        if inspect.iscoroutinefunction(func):
            asyncio.run(func(i))
        else:
            func(i)
    stats = get_performance_profiler().get_statistics(name)
    return {
        "call_count": stats["call_count"],
        "memory_call_count": stats["memory_call_count"],
        "tracing": tracemalloc.is_tracing(),
        "pid": os.getpid(),
    }


def test_module_level_wrappers_pickle_by_reference():
    for func in (square, grow, async_square):
        assert pickle.loads(pickle.dumps(func)) is func
        assert cloudpickle.loads(cloudpickle.dumps(func)) is func


@pytest.mark.parametrize("method", ["spawn", "fork"])
@pytest.mark.parametrize(
    ("func", "name", "memory_calls"),
    [
        (square, "travel.square", 0),  # time-only stays time-only
        (grow, "travel.grow", CALLS),
        (async_square, "travel.async", 0),
    ],
)
def test_a_pool_worker_records_into_its_own_shared_profiler(method, func, name, memory_calls):
    context = multiprocessing.get_context(method)
    with context.Pool(1) as pool:
        result = pool.apply(child_run, (func, CALLS, name))
    assert result["pid"] != os.getpid()
    assert result["call_count"] == CALLS
    assert result["memory_call_count"] == memory_calls


def test_tracemalloc_mode_starts_tracing_in_a_spawned_worker():
    context = multiprocessing.get_context("spawn")
    with tracemalloc_wrapper() as traced, context.Pool(1) as pool:
        blob = cloudpickle.dumps(traced)
        result = pool.apply(run_shipped, (blob, CALLS, "travel.heap"))
    assert result["tracing"]
    assert result["call_count"] == result["memory_call_count"] == CALLS


def test_a_process_pool_executor_maps_a_profiled_function():
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as ex:
        assert list(ex.map(square, range(10))) == [x * x for x in range(10)]
        result = ex.submit(child_run, square, CALLS, "travel.square").result()
    # The same worker ran the 10 mapped calls and then CALLS more.
    assert result["call_count"] == 10 + CALLS


MAIN_SCRIPT = """
import os, subprocess, sys, tracemalloc
import cloudpickle
from wdbx_notebook import get_performance_profiler

profiler = get_performance_profiler()

@profiler.profile("main.square", track_memory=False)
def square(x):
    return x * x

@profiler.profile("main.grow")
def grow(n):
    return len([0] * n)

@profiler.profile("main.heap", track_memory="tracemalloc")
def heap(n):
    return len(bytearray(n))

@profiler.profile
async def fetch(x):
    return x

def calls_square(x):
    # Undecorated, defined in __main__, calling a decorated function.
    return square(x) + 1

CHILD = '''
import asyncio, inspect, json, sys, tracemalloc
import cloudpickle
from wdbx_notebook import get_performance_profiler
func, name, n = cloudpickle.loads(sys.stdin.buffer.read())
for i in range(n):
    asyncio.run(func(i)) if inspect.iscoroutinefunction(func) else func(i)
stats = get_performance_profiler().get_statistics(name)
print(json.dumps([stats["call_count"], stats["memory_call_count"], tracemalloc.is_tracing()]))
'''

for func, name in ((square, "main.square"), (grow, "main.grow"), (heap, "main.heap"),
                   (fetch, "fetch"), (calls_square, "main.square")):
    blob = cloudpickle.dumps((func, name, N))
    run = subprocess.run([sys.executable, "-c", CHILD], input=blob, capture_output=True,
                         check=True)
    print(name, run.stdout.decode().strip())
print("parent", profiler.get_all_operations())
"""


def test_functions_defined_in_main_travel_by_value_with_cloudpickle(tmp_path):
    script = tmp_path / "notebook_like.py"
    script.write_text(textwrap.dedent(MAIN_SCRIPT).replace("N))", f"{CALLS}))"))
    run = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    # [call_count, memory_call_count, tracing] in the child that unpickled the function.
    assert lines == [
        f"main.square [{CALLS}, 0, false]",
        f"main.grow [{CALLS}, {CALLS}, false]",
        f"main.heap [{CALLS}, {CALLS}, true]",
        f"fetch [{CALLS}, {CALLS}, false]",
        f"main.square [{CALLS}, 0, false]",
        "parent []",  # the calls happened in the children only
    ]


def _held_by(func):
    """What a wrapper holds: its closure cells, or the globals its code names (a
    generated wrapper keeps everything it uses as globals of its own namespace)."""
    cells = [cell.cell_contents for cell in func.__closure__ or ()]
    code = func.__code__
    names = set(code.co_names)
    for const in code.co_consts:  # nested code (none today), for completeness
        if hasattr(const, "co_names"):
            names.update(const.co_names)
    return cells + [func.__globals__[n] for n in sorted(names) if n in func.__globals__]


def test_a_wrappers_closure_holds_no_lock_or_unpicklable_object():
    # A lock in the closure is what broke joblib's loky and Dask before: pickling the
    # closure by value must work for every kind of wrapper.
    # (Plain pickle for everything but the wrapped function, which only cloudpickle
    # can ship: the module attribute of that name is the wrapper.)
    with tracemalloc_wrapper() as traced:
        for func in (square, grow, traced, async_square):
            contents = _held_by(func)
            assert func.__wrapped__ in contents
            for value in contents:
                if value is not func.__wrapped__:
                    pickle.dumps(value)
            cloudpickle.dumps(contents)


# -- fork safety ---------------------------------------------------------------------------
FORKS = 100


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_forks_beside_a_flushing_thread_never_hang_and_inherit_no_calls(shared_profiler):
    busy = shared_profiler.profile("fork.busy", track_memory=False)(lambda i: i)
    unwatch = shared_profiler.watch("fork.busy", lambda name: None, every=1)  # a fold per call
    stop = threading.Event()

    def keep_flushing() -> None:
        i = 0
        while not stop.is_set():
            busy(i)
            i += 1
            if i % 50 == 0:
                shared_profiler.get_statistics("fork.busy")
                shared_profiler.snapshot()

    thread = threading.Thread(target=keep_flushing, daemon=True)
    thread.start()
    hangs, failures = 0, []
    try:
        while shared_profiler.get_statistics("fork.busy")["call_count"] < 100:
            time.sleep(0.001)
        for _ in range(FORKS):
            pid = os.fork()
            if pid == 0:  # the child: report through the exit status only
                code = 70
                try:
                    child = get_performance_profiler()
                    inherited = child.get_statistics("fork.busy")["call_count"]
                    operations = child.get_all_operations()
                    for i in range(7):
                        busy(i)
                    after = child.get_statistics("fork.busy")["call_count"]
                    code = 0 if (inherited, operations, after) == (0, [], 7) else 71
                finally:
                    os._exit(code)
            deadline = time.monotonic() + 20
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    if os.waitstatus_to_exitcode(status) != 0:
                        failures.append(os.waitstatus_to_exitcode(status))
                    break
                if time.monotonic() > deadline:
                    hangs += 1
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.002)
    finally:
        stop.set()
        thread.join(10)
        unwatch()
    assert (hangs, failures) == (0, [])
    assert shared_profiler.get_statistics("fork.busy")["call_count"] > 100  # parent kept its own


BLOCK_SCRIPT = """
import subprocess, sys
import cloudpickle
from wdbx_notebook import get_performance_profiler

block = get_performance_profiler().profile_block("main.block", track_memory=False)

def uses_a_kept_block(x):
    with block:
        return x + 1

CHILD = '''
import json, sys
import cloudpickle
from wdbx_notebook import get_performance_profiler
func = cloudpickle.loads(sys.stdin.buffer.read())
for i in range(5):
    func(i)
stats = get_performance_profiler().get_statistics("main.block")
print(json.dumps([stats["call_count"], stats["memory_call_count"]]))
'''
run = subprocess.run([sys.executable, "-c", CHILD], input=cloudpickle.dumps(uses_a_kept_block),
                     capture_output=True, check=True)
print(run.stdout.decode().strip())
"""


def test_a_kept_block_used_by_a_main_function_travels_with_it(tmp_path):
    script = tmp_path / "block_user.py"
    script.write_text(BLOCK_SCRIPT)
    run = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[5, 0]"
