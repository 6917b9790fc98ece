"""Ray: every worker's profiled calls, brought home exactly, with public Ray APIs only::

    import ray
    from wdbx_notebook.distributed import ray as wdbx_ray

    wdbx_ray.install(num_cpus=4)               # instead of ray.init(num_cpus=4)
    search = wdbx_ray.remote(search_vectors)   # instead of ray.remote(search_vectors)
    ray.get([search.remote(q) for q in queries])   # the results bring the calls home
    wdbx_ray.collect()                         # and what ended workers left behind

How: a task or actor method made by :func:`remote` returns its result together
with the calls its worker recorded since the previous drain; unpickling the
result (``ray.get``) absorbs them, exactly once, wherever it lands; an actor
made by :func:`remote` therefore loses nothing when it ends. The
``worker_process_setup_hook`` that :func:`install` gives Ray marks the worker
processes (results are carried only from workers, never in the driver). Calls
that no result carries (a task whose result is never read, a plain
``ray.remote`` actor) come home when the worker calls :func:`send_home` (for
example in an actor's last method, before ``ray.actor.exit_actor()``): it
drains the worker into a named, detached collector actor, and :func:`collect`
absorbs what the collector holds.

Why not at the worker's exit: measured here with Ray 2.60, an ``atexit``
handler of an actor that called ``ray.actor.exit_actor()`` hangs on its first
Ray call (even submitting to an existing actor handle) until Ray kills the
process, so nothing sent at exit arrives. Nor from a background thread in each
worker: submitting actor calls from a second thread while the worker ran tasks
crashed Ray's core worker here (a failed check in ``shared_lru.h``).
"""

from __future__ import annotations

import functools
import inspect
import os
import pickle
import socket
from collections.abc import Callable
from typing import Any

from . import _absorb_all, carry_with_exception, carry_with_result, drain_here, missing_extra

__all__ = [
    "COLLECTOR_NAME",
    "NAMESPACE",
    "collect",
    "install",
    "remote",
    "runtime_env",
    "send_home",
]

#: The detached collector actor's name and namespace.
COLLECTOR_NAME = "wdbx_notebook_collector"
NAMESPACE = "wdbx_notebook"
_HOOK = "wdbx_notebook.distributed.ray._setup_worker"
_IS_COLLECTOR = "WDBX_NOTEBOOK_RAY_COLLECTOR"

#: True in a Ray worker process that ran the setup hook: results then carry calls home.
in_worker = False


def _ray() -> Any:
    try:
        import ray
    except ImportError as err:
        raise missing_extra("ray", "ray") from err
    return ray


class _Collector:
    """The detached actor: drains that workers sent with :func:`send_home`."""

    def __init__(self) -> None:
        self.payloads: list[bytes] = []

    def push(self, payload: bytes) -> None:
        self.payloads.append(payload)

    def take(self) -> list[bytes]:
        payloads, self.payloads = self.payloads, []
        return payloads


def runtime_env(base: dict[str, Any] | None = None) -> dict[str, Any]:
    """``base`` (a Ray runtime_env) plus the worker hook, for ``ray.init(runtime_env=...)``.

    >>> runtime_env({"env_vars": {"A": "1"}})["worker_process_setup_hook"]
    'wdbx_notebook.distributed.ray._setup_worker'
    """
    env = dict(base or {})
    hook = env.get("worker_process_setup_hook")
    if hook not in (None, _HOOK):
        raise ValueError(
            f"runtime_env already has a worker_process_setup_hook ({hook!r}); call "
            "wdbx_notebook.distributed.ray._setup_worker() from it instead"
        )
    env["worker_process_setup_hook"] = _HOOK
    return env


def install(**init_options: Any) -> Any:
    """Start Ray with the worker hook (``init_options`` go to ``ray.init``) and create the
    collector actor; returns its handle. Call it instead of ``ray.init(...)``.

    When Ray is already running it must have been started with
    ``runtime_env=runtime_env(...)``; otherwise a ``RuntimeError`` says so.
    """
    ray = _ray()
    if not ray.is_initialized():
        init_options["runtime_env"] = runtime_env(init_options.get("runtime_env"))
        ray.init(**init_options)
    else:
        current = ray.get_runtime_context().runtime_env or {}
        if current.get("worker_process_setup_hook") != _HOOK:
            raise RuntimeError(
                "Ray is already running without wdbx_notebook's worker hook, so workers' "
                "calls could not come home; start Ray with wdbx_ray.install(...) instead of "
                "ray.init(...), or with ray.init(runtime_env=wdbx_ray.runtime_env())"
            )
    return _collector()


def _collector() -> Any:
    ray = _ray()
    actor = ray.remote(_Collector).options(
        name=COLLECTOR_NAME,
        namespace=NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
        num_cpus=0,
        runtime_env={"env_vars": {_IS_COLLECTOR: "1"}},
    )
    return actor.remote()


def collect(profiler: Any = None) -> int:
    """Absorb the calls workers sent with :func:`send_home` since the last collect
    (results of :func:`remote` tasks bring theirs by themselves); returns the calls added."""
    ray = _ray()
    payloads = ray.get(_collector().take.remote())
    return _absorb_all((pickle.loads(p) for p in payloads), profiler)


def _in_worker() -> bool:
    # A function, not the global itself: cloudpickle copies a by-value function's globals.
    return in_worker


def _carrying(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        if not _in_worker():
            return func(*args, **kwargs)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            carry_with_exception(exc)
            raise
        return carry_with_result(result)

    return call


def remote(target: Any = None, **options: Any) -> Any:
    """``ray.remote`` for a function or an actor class whose calls come home with its
    results: each task's (or public actor method's) result carries the calls its worker
    recorded since the previous drain, absorbed when ``ray.get`` unpickles it.

    Use it like ``ray.remote``: ``wdbx_ray.remote(f)``, ``wdbx_ray.remote(num_cpus=2)(f)``.
    """
    ray = _ray()
    if target is None:
        return lambda t: remote(t, **options)
    if inspect.isclass(target):
        methods = {
            name: _carrying(member)
            for name, member in vars(target).items()
            if not name.startswith("_")
            and inspect.isfunction(member)
            and not inspect.iscoroutinefunction(member)
        }
        wrapped: Any = type(target.__name__, (target,), methods)
        wrapped.__qualname__ = target.__qualname__
        wrapped.__doc__ = target.__doc__
    elif callable(target):
        if inspect.iscoroutinefunction(target):
            raise TypeError(f"wdbx_ray.remote takes a plain function; {target!r} is async")
        wrapped = _carrying(target)
    else:
        raise TypeError(f"wdbx_ray.remote takes a function or a class, got {target!r}")
    return ray.remote(**options)(wrapped) if options else ray.remote(wrapped)


# -- in each worker process ------------------------------------------------------
def send_home() -> int:
    """In a Ray task or actor: send this worker's calls since its previous drain to the
    collector, where :func:`collect` picks them up; returns the calls sent.

    For calls that no :func:`remote` result carries, e.g. in a plain actor's last
    method before ``ray.actor.exit_actor()``.
    """
    snapshot = drain_here(f"ray worker {socket.gethostname()}:{os.getpid()}")
    names = snapshot.get_all_operations()
    if not names:
        return 0
    payload = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
    _ray().get(_collector().push.remote(payload))
    return sum(snapshot.operation_stats(name).call_count for name in names)


def _setup_worker() -> None:
    """Ray's ``worker_process_setup_hook``: mark this process as a Ray worker."""
    global in_worker
    if not os.environ.get(_IS_COLLECTOR):
        in_worker = True
