"""``%wdbx_collect [dask|ray] [CLIENT]``: bring a cluster's calls into the notebook's profiler.

The magic in :mod:`.magics` parses the line and calls :func:`collect_magic`;
the work is :mod:`wdbx_notebook.distributed`'s. Without an engine it uses the
one that is running: a current Dask client (``distributed.default_client()``)
first, else an initialised Ray. Afterwards ``%wdbx_stats``, reports,
DataFrames and the widget show the cluster's calls, and
``statistics_dataframe(by="source")`` splits them per worker.
"""

from __future__ import annotations

import sys
from typing import Any

from IPython.core.error import UsageError

__all__ = ["ENGINES", "collect_magic", "find_engine", "summary"]

ENGINES = ("dask", "ray")


def _dask_client(name: str | None, namespace: dict[str, Any]) -> Any:
    if name is not None:
        if name not in namespace:
            raise UsageError(f"no variable {name!r} in the notebook; pass the Dask client's name")
        return namespace[name]
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client

    try:
        return default_client()
    except ValueError:
        return None


def _ray_running() -> bool:
    ray = sys.modules.get("ray")
    return bool(ray is not None and getattr(ray, "is_initialized", lambda: False)())


def find_engine(
    engine: str | None, client: str | None, namespace: dict[str, Any]
) -> tuple[str, Any]:
    """``(engine, dask client or None)`` to collect from; a ``UsageError`` says what is missing."""
    if engine not in (None, *ENGINES):
        raise UsageError(f"unknown engine {engine!r}; use one of: {', '.join(ENGINES)}")
    if engine in (None, "dask"):
        try:
            found = _dask_client(client, namespace)
        except ImportError:
            found = None
        if found is not None:
            return "dask", found
        if engine == "dask":
            raise UsageError(
                "no Dask client: create one first (client = Client(...)), or name it: "
                "%wdbx_collect dask client"
            )
    if engine in (None, "ray"):
        if _ray_running():
            return "ray", None
        if engine == "ray":
            raise UsageError(
                "Ray is not running: start it with wdbx_notebook.distributed.ray.install(...) first"
            )
    raise UsageError(
        "no cluster to collect from: no current Dask client and Ray is not running; "
        "pools bring their calls home by themselves with wdbx_notebook.distributed.collected"
    )


def summary(engine: str, added: int, profiler: Any) -> str:
    """One line: how many calls came home, from how many workers."""
    workers = len(profiler.sources())
    return (
        f"wdbx_collect {engine}: {added:,} new call{'s' if added != 1 else ''}; "
        f"calls from {workers} worker process{'es' if workers != 1 else ''} so far "
        "(statistics_dataframe(by='source') splits them)"
    )


def collect_magic(
    profiler: Any, engine: str | None, client: str | None, namespace: dict[str, Any]
) -> int:
    """Collect from ``engine`` into ``profiler``, print the summary line; calls added."""
    name, dask_client = find_engine(engine, client, namespace)
    try:
        if name == "dask":
            from ..distributed import dask as wdbx_dask

            added = wdbx_dask.collect(dask_client, profiler)
        else:
            from ..distributed import ray as wdbx_ray

            added = wdbx_ray.collect(profiler)
    except ImportError as err:
        raise UsageError(str(err)) from None
    print(summary(name, added, profiler))
    return added
