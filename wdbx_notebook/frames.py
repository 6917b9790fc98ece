"""pandas views of the profiler: one row per operation, or one row per call.

pandas is imported inside the functions, so ``import wdbx_notebook`` stays light.

>>> from wdbx_notebook import PerformanceProfiler
>>> profiler = PerformanceProfiler(track_memory=False)
>>> with profiler.profile_block("load"):
...     pass
>>> statistics_dataframe(profiler).loc["load", "call_count"]
np.int64(1)
>>> list(history_dataframe(profiler).columns)
['operation', 'timestamp', 'duration_ms', 'memory_delta', 'success', 'error', 'thread']

Conventions (the same in every frame):

* Times of day (``first_call``, ``last_call``, ``timestamp``) are
  ``datetime64[ns]`` in UTC, timezone-naive, as ``pd.to_datetime(..., unit="s")``
  gives them; missing ones are ``NaT``.
* ``errors_by_type`` is a column of dicts ``{exception type name: count}``:
  lossless, and ``df["errors_by_type"].apply(len)`` or ``pd.json_normalize``
  take it apart; the displays format it as ``"ValueError (2), KeyError (1)"``.
* ``memory_delta`` in the history is pandas' nullable ``Int64`` (bytes), with
  ``<NA>`` where a call's memory was not measured (``track_memory=False``), so
  the known deltas stay exact integers.
"""

from __future__ import annotations

from typing import Any

from .profiler import _NS_PER_S, UNKNOWN
from .stats import OperationStats

__all__ = ["HISTORY_COLUMNS", "history_dataframe", "statistics_columns", "statistics_dataframe"]

#: The columns of :func:`history_dataframe`, in order.
HISTORY_COLUMNS = (
    "operation",
    "timestamp",
    "duration_ms",
    "memory_delta",
    "success",
    "error",
    "thread",
)

_DATETIME_KEYS = frozenset({"first_call", "last_call"})

#: Options :func:`history_dataframe` accepts through ``**options``.
HISTORY_OPTIONS: frozenset[str] = frozenset({"rolling"})


def statistics_columns() -> dict[str, str]:
    """``{column: dtype}`` of :func:`statistics_dataframe`, in column order.

    Derived from the engine's own statistics dict, so a new statistic becomes a
    column without touching this module: ints stay ``int64``, flags ``bool``,
    ``first_call``/``last_call`` become ``datetime64[ns]``, ``errors_by_type``
    stays a column of dicts (``object``) and the rest are ``float64``.

    >>> statistics_columns()["call_count"]
    'int64'
    """
    columns: dict[str, str] = {}
    for key, value in OperationStats().summary().items():
        if key in _DATETIME_KEYS:
            columns[key] = "datetime64[ns]"
        elif isinstance(value, bool):
            columns[key] = "bool"
        elif isinstance(value, int):
            columns[key] = "int64"
        elif isinstance(value, dict):
            columns[key] = "object"
        else:
            columns[key] = "float64"
    return columns


def _epoch_seconds_to_datetime(values: list[Any]) -> Any:
    import numpy as np

    # Through integer nanoseconds so the column is datetime64[ns] on every pandas version.
    ns = np.array(
        [np.iinfo(np.int64).min if v is None else round(float(v) * _NS_PER_S) for v in values],
        dtype=np.int64,
    )
    return ns.view("datetime64[ns]")


def statistics_dataframe(source: Any, names: list[str] | None = None) -> Any:
    """One row per operation, one column per statistic of ``get_statistics``.

    Args:
        source: a live :class:`~wdbx_notebook.PerformanceProfiler` or anything
            with ``get_all_operations()`` and ``get_statistics(name)`` (a saved
            session's snapshot).
        names: only these operations, in this order (default: all, in order of
            first use). An unknown name raises the source's ``KeyError``.

    Returns:
        A DataFrame indexed by ``operation``; integer counts, float durations
        (ms) and memory figures (bytes), ``datetime64[ns]`` first/last call,
        ``errors_by_type`` as dicts. An empty source gives an empty frame with
        the same columns and dtypes.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> statistics_dataframe(PerformanceProfiler()).empty
    True
    """
    import numpy as np
    import pandas as pd

    if not (
        callable(getattr(source, "get_all_operations", None))
        and callable(getattr(source, "get_statistics", None))
    ):
        raise TypeError(
            "statistics_dataframe() needs a profiler or saved session (something with "
            f"get_all_operations() and get_statistics(name)), got {type(source).__name__}"
        )
    if names is None:
        names = list(source.get_all_operations())
    elif isinstance(names, str):
        raise TypeError(
            f"names must be a list of operation names, got the str {names!r}; wrap it in a list"
        )
    else:
        names = list(names)
    rows = [source.get_statistics(name) for name in names]
    frame = pd.DataFrame(index=pd.Index(names, name="operation", dtype=object))
    columns = statistics_columns()
    for key, dtype in columns.items():
        values = [row.get(key) for row in rows]
        if dtype == "datetime64[ns]":
            frame[key] = _epoch_seconds_to_datetime(values)
        elif dtype == "object":
            frame[key] = pd.Series([dict(v or {}) for v in values], index=frame.index, dtype=object)
        else:
            frame[key] = np.array(values, dtype=dtype)
    # A statistic the engine adds later still shows up, with the dtype pandas infers.
    for key in rows[0] if rows else ():
        if key not in columns:
            frame[key] = [row.get(key) for row in rows]
    return frame


def _check_options(options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - HISTORY_OPTIONS)
    if unknown:
        accepted = ", ".join(sorted(HISTORY_OPTIONS)) or "none yet"
        raise TypeError(
            "history_dataframe() got unexpected option(s) "
            + ", ".join(repr(u) for u in unknown)
            + f"; accepted options: {accepted}"
        )


def history_dataframe(profiler: Any, name: str | None = None, **options: Any) -> Any:
    """One row per recorded call (the most recent ``history_limit`` calls per operation).

    Columns: ``operation``, ``timestamp`` (start of the call, ``datetime64[ns]``
    UTC), ``duration_ms`` (float), ``memory_delta`` (bytes, nullable ``Int64``:
    ``<NA>`` when not measured), ``success`` (bool), ``error`` (the exception
    type's name, missing for successful calls) and ``thread`` (its name).
    Rows are in the order the calls started.

    Args:
        profiler: a live profiler (saved sessions keep aggregates, not calls).
        name: only this operation's calls; an unknown name raises the
            profiler's ``KeyError`` (which suggests close names).
        **options: ``rolling=WINDOW`` adds ``rolling_mean_ms`` and
            ``rolling_p95_ms`` over each operation's last WINDOW successful
            calls (see :func:`wdbx_notebook.trends.add_rolling_columns`);
            unknown options raise ``TypeError``.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler(track_memory=False)
    >>> with profiler.profile_block("load"):
    ...     pass
    >>> history_dataframe(profiler, "load")["success"].tolist()
    [True]
    """
    import numpy as np
    import pandas as pd

    _check_options(options)
    if not callable(getattr(profiler, "history_records", None)):
        raise TypeError(
            "history_dataframe() needs a profiler or a saved session (it reads the per-call "
            f"history), got {type(profiler).__name__}"
        )
    names = [name] if name is not None else list(profiler.get_all_operations())
    offset = int(profiler.wall_offset_ns)
    ops: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    threads: list[str] = []
    befores: list[int] = []
    afters: list[int] = []
    errors: list[str | None] = []
    for op_name in names:
        records = profiler.history_records(op_name, with_thread_names=True)
        ops.extend([op_name] * len(records))
        for start, end, _ident, before, after, error, thread_name in records:
            starts.append(start)
            ends.append(end)
            threads.append(thread_name)
            befores.append(before)
            afters.append(after)
            errors.append(error)
    start_ns = np.array(starts, dtype=np.int64)
    end_ns = np.array(ends, dtype=np.int64)
    before_arr = np.array(befores, dtype=np.int64)
    after_arr = np.array(afters, dtype=np.int64)
    known = (before_arr != UNKNOWN) & (after_arr != UNKNOWN)
    memory = pd.array(np.where(known, after_arr - before_arr, 0), dtype="Int64")
    memory[~known] = pd.NA
    frame = pd.DataFrame(
        {
            "operation": pd.Series(ops, dtype=object),
            "timestamp": (start_ns + offset).view("datetime64[ns]"),
            "duration_ms": (end_ns - start_ns) / 1e6,
            "memory_delta": memory,
            "success": np.array([e is None for e in errors], dtype=bool),
            "error": pd.Series(errors, dtype=object),
            "thread": pd.Series(threads, dtype=object),
        },
        columns=list(HISTORY_COLUMNS),
    )
    if len(names) > 1:
        frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    if options.get("rolling") is not None:
        from .trends import add_rolling_columns

        frame = add_rolling_columns(frame, options["rolling"])
    return frame
