"""Getting worker processes' calls home: process pools, joblib, Dask and Ray.

A profiled function that runs in another process records into that process's
shared profiler. Something must carry those calls back; each engine gets the
lightest way that loses nothing:

* :func:`collected` for ``multiprocessing``, ``concurrent.futures`` and joblib:
  wrap the function you map, and every result brings the calls made since the
  worker's previous drain; unpickling the result in your process absorbs them.
* :mod:`wdbx_notebook.distributed.dask`: ``install(client)`` (a worker plugin
  that sends a closing worker's calls home) and ``collect(client)``.
* :mod:`wdbx_notebook.distributed.ray`: ``install()`` and ``collect()``.

Every way goes through :meth:`~wdbx_notebook.PerformanceProfiler.drain` in the
worker and :meth:`~wdbx_notebook.PerformanceProfiler.absorb` at home, so a call
is counted once, however often you collect.

>>> from concurrent.futures import ThreadPoolExecutor
>>> from wdbx_notebook.distributed import collected
>>> with ThreadPoolExecutor(2) as pool:  # same process: results come back as they are
...     list(pool.map(collected(abs), [-1, -2]))
[1, 2]
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any

__all__ = [
    "RECENT_CALLS_PER_DRAIN",
    "Collected",
    "bounded",
    "carry_with_exception",
    "carry_with_result",
    "collected",
    "drain_here",
    "missing_extra",
]


def missing_extra(module: str, extra: str) -> ImportError:
    """The error for an engine that is not installed, naming the extra that installs it."""
    return ImportError(
        f"wdbx_notebook.distributed.{extra} needs {module}, which is not installed; "
        f"install it with: pip install 'wdbx_notebook[{extra}]'"
    )


def _token() -> str:
    # Read at call time: a forked child gets a new token (profiler.py's at-fork hook).
    from .. import profiler

    return profiler._PROCESS_TOKEN


def _worker_name() -> str | None:
    import multiprocessing

    with contextlib.suppress(Exception):
        return multiprocessing.current_process().name
    return None


#: Recent calls one drain carries, shared among its operations (the most recent of
#: each). Aggregates and percentiles are always exact; only the per-call history that
#: travels home is bounded, so a worker with 1,000 operations sends 100 calls of each,
#: not 10 million rows.
RECENT_CALLS_PER_DRAIN = 100_000


def drain_here(worker: str | None = None, recent_calls: int = RECENT_CALLS_PER_DRAIN) -> Any:
    """This process's calls since its previous drain (a Snapshot), to send home.

    Carries every call's aggregates and at most ``recent_calls`` recent calls in all.

    >>> from wdbx_notebook import Snapshot
    >>> isinstance(drain_here(), Snapshot)
    True
    """
    from ..profiler import get_performance_profiler

    return bounded(get_performance_profiler().drain(worker=worker), recent_calls)


def bounded(snapshot: Any, recent_calls: int = RECENT_CALLS_PER_DRAIN) -> Any:
    """``snapshot`` with at most ``recent_calls`` recent calls in all (the most recent of
    each operation, shared evenly); aggregates untouched."""
    from .._calls import CallColumns
    from ..snapshot import Snapshot

    names = snapshot.get_all_operations()
    if not names:
        return snapshot
    per_operation = max(1, recent_calls // len(names))
    # The snapshot's own chunks (each in start order): the most recent calls are among
    # each chunk's last ones, so only those are joined (joining whole histories of
    # 1,000 operations would cost more than everything else a collect does).
    chunks = {name: snapshot._chunks.get(name, ()) for name in names}
    if all(sum(len(c) for c in parts) <= per_operation for parts in chunks.values()):
        return snapshot
    return Snapshot(
        {name: snapshot.operation_stats(name) for name in names},
        {
            name: CallColumns.concat(
                [
                    c.take(slice(len(c) - per_operation, None)) if len(c) > per_operation else c
                    for c in parts
                ],
                per_operation,
            )
            for name, parts in chunks.items()
        },
        saved_at=snapshot.saved_at,
        environment=snapshot.environment,
        history_limit=per_operation,
        origin=snapshot.origin,
    )


def _arrive(result: Any, calls: Any) -> Any:
    """Unpickling a carried result: absorb its calls, give back the plain result."""
    try:
        from ..profiler import get_performance_profiler

        get_performance_profiler().absorb(calls)
    except Exception as err:
        from .._operation import warn_internal

        warn_internal("absorbing a worker's calls", err)
    return result


class _Carried:
    """A worker's result with the worker's drained calls; unpickles as the result."""

    __slots__ = ("calls", "result")

    def __init__(self, result: Any, calls: Any) -> None:
        self.result = result
        self.calls = calls

    def __reduce__(self) -> tuple[Any, ...]:
        return (_arrive, (self.result, self.calls))


def carry_with_result(result: Any) -> Any:
    """``result``, with this process's calls since its last drain attached when there are any.

    Unpickled in another process, the pair turns back into ``result`` and the
    calls are absorbed into that process's shared profiler.
    """
    try:
        calls = drain_here(_worker_name())
    except Exception as err:
        from .._operation import warn_internal

        warn_internal("draining this worker's calls", err)
        return result
    return _Carried(result, calls) if len(calls) else result


def carry_with_exception(exc: BaseException) -> None:
    """Attach this process's undrained calls to ``exc`` (pickled with its ``__dict__``)."""
    with contextlib.suppress(Exception):
        calls = drain_here(_worker_name())
        if len(calls):
            exc.__dict__["_wdbx_calls"] = _Carried(None, calls)


class _Named:
    """A module-level ``collected`` object, found again by name in the worker."""

    __slots__ = ("module", "qualname")

    def __init__(self, module: str, qualname: str) -> None:
        self.module = module
        self.qualname = qualname

    def resolve(self) -> Any:
        import importlib

        found: Any = importlib.import_module(self.module)
        for part in self.qualname.split("."):
            found = getattr(found, part)
        return found


class Collected:
    """A function whose calls in other processes come home with its results.

    Made by :func:`collected`. Called where it was made (or in a thread), it
    is the function itself. Pickled to another process (a pool's task), each
    call there returns its result together with that process's drained calls;
    unpickling the result at home absorbs them into the shared profiler. An
    exception raised in the worker carries the calls the same way.
    """

    _home: str | None
    __wrapped__: Callable[..., Any]

    def __init__(self, func: Callable[..., Any], home: str | None = None) -> None:
        if isinstance(func, Collected):
            func = func.__wrapped__
        if not callable(func):
            raise TypeError(f"collected() takes a function, got {type(func).__name__} {func!r}")
        if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
            raise TypeError(
                f"collected() takes a plain function; {func!r} is async. Pools cannot run it; "
                "on Dask use wdbx_notebook.distributed.dask.install(client) instead"
            )
        functools.update_wrapper(self, func)
        self.__wrapped__ = func
        self._home = home

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        home = self._home
        if home is None or home == _token():
            return self.__wrapped__(*args, **kwargs)
        try:
            result = self.__wrapped__(*args, **kwargs)
        except BaseException as exc:
            carry_with_exception(exc)
            raise
        return carry_with_result(result)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._reference(), _token()))

    def _reference(self) -> Any:
        func = self.__wrapped__
        module = getattr(func, "__module__", None)
        qualname = getattr(func, "__qualname__", None)
        # Used as a decorator at module level, the module's attribute is this object,
        # so pickle could not find the function by name: send the name instead.
        if module and qualname and module != "__main__" and "<locals>" not in qualname:
            with contextlib.suppress(Exception):
                named = _Named(module, qualname)
                if named.resolve() is self:
                    return named
        return func

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        return self if instance is None else functools.partial(self, instance)

    def __repr__(self) -> str:
        return f"<collected {self.__wrapped__!r}>"


def _rebuild(reference: Any, home: str) -> Collected:
    func = reference.resolve() if isinstance(reference, _Named) else reference
    return Collected(func, home=home)


def collected(func: Callable[..., Any]) -> Collected:
    """Wrap ``func`` so that calls it makes in worker processes come home with its results.

    Use it where you hand a function to a pool; everything profiled in the
    worker (the function itself if it is profiled, and whatever it calls)
    lands in your shared profiler when the results arrive::

        with multiprocessing.Pool(4) as pool:
            results = pool.map(collected(work), items)

    It works with ``multiprocessing.Pool`` (fork, spawn, forkserver),
    ``ProcessPoolExecutor`` and joblib (loky and threading:
    in a thread the function is called as it is, so nothing is counted twice).

    >>> collected(abs)(-3)
    3
    """
    return Collected(func)


def _absorb_all(snapshots: Any, profiler: Any = None) -> int:
    """Absorb every snapshot into ``profiler`` (the shared one when None); calls added."""
    from ..profiler import get_performance_profiler

    target = profiler if profiler is not None else get_performance_profiler()
    return sum(target.absorb(snapshot) for snapshot in snapshots)
