"""Dask: every worker's profiled calls, brought home exactly::

    from dask.distributed import Client
    from wdbx_notebook.distributed import dask as wdbx_dask

    client = Client(n_workers=2)
    wdbx_dask.install(client)                  # once: closing workers send their calls home
    client.gather(client.map(search_vectors, queries))
    wdbx_dask.collect(client)                  # -> the number of calls brought home

:func:`collect` drains every live worker with ``client.run`` (public API) and
absorbs the drains into your profiler. :func:`install` registers a
``WorkerPlugin`` whose ``teardown`` (run when a worker closes, retired or
scaled down) drains that worker and logs the drain as a scheduler event under
:data:`TOPIC`; :func:`collect` reads those events too (``client.get_events``),
so a worker that left keeps its calls. Each drain is absorbed once, so
collecting again adds nothing new.
"""

from __future__ import annotations

import pickle
from typing import Any

from . import _absorb_all, drain_here, missing_extra

__all__ = ["PLUGIN_NAME", "TOPIC", "collect", "install"]  # and WdbxWorkerPlugin, built lazily

#: The scheduler event topic that carries closing workers' calls.
TOPIC = "wdbx_notebook-drain"

#: The name the worker plugin is registered under (registering again replaces it).
PLUGIN_NAME = "wdbx_notebook"


def _require_distributed() -> Any:
    try:
        import distributed
    except ImportError as err:
        raise missing_extra("dask[distributed]", "dask") from err
    return distributed


def _drain_worker(dask_worker: Any = None) -> bytes:
    """Run on a worker by ``client.run``: its calls since the previous drain, pickled."""
    name = None if dask_worker is None else str(dask_worker.address)
    return pickle.dumps(drain_here(name), protocol=pickle.HIGHEST_PROTOCOL)


def _plugin_class() -> type:
    from distributed.diagnostics.plugin import WorkerPlugin

    class WdbxWorkerPlugin(WorkerPlugin):
        """Sends a closing worker's calls home as a scheduler event (see the module)."""

        idempotent = True

        def setup(self, worker: Any) -> None:
            self.worker = worker

        def teardown(self, worker: Any) -> None:
            try:
                payload = _drain_worker(worker)
                worker.log_event(TOPIC, {"drain": payload})
            except Exception as err:
                from .._operation import warn_internal

                warn_internal("sending a closing worker's calls home", err)

    return WdbxWorkerPlugin


def __getattr__(name: str) -> Any:
    # The plugin subclasses distributed's WorkerPlugin, so it exists once distributed does.
    if name == "WdbxWorkerPlugin":
        _require_distributed()
        cls = _plugin_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def install(client: Any) -> None:
    """Register the worker plugin on every worker of ``client``'s cluster, now and later.

    A worker that closes (``client.retire_workers``, scaling down, ``client.shutdown``)
    then sends its calls home before it goes; :func:`collect` picks them up.
    """
    _require_distributed()
    plugin = __getattr__("WdbxWorkerPlugin")()
    client.register_plugin(plugin, name=PLUGIN_NAME)


def collect(client: Any, profiler: Any = None) -> int:
    """Bring every worker's calls since the last collect home; returns the calls added.

    Drains each live worker (``client.run``) and the calls of workers that have
    closed since :func:`install`; absorbs them into ``profiler`` (the shared one
    when None). ``profiler.sources()`` and ``statistics_dataframe(profiler,
    by="source")`` then tell the workers apart.
    """
    _require_distributed()
    payloads = list(client.run(_drain_worker).values())
    for _, event in client.get_events(TOPIC):
        if isinstance(event, dict) and "drain" in event:
            payloads.append(event["drain"])
    return _absorb_all((pickle.loads(p) for p in payloads), profiler)
